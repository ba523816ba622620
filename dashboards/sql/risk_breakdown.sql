-- Journeys of one kind at risk or stalled, by stage, facility, channel and customer: the top
-- $limit keys of each dimension by count, with their value per currency.
-- j: journeys with their status at $now, by the correlator's rule (correlator/sql/journeys_now.sql).
WITH j AS ({journeys_now}),
risky AS (
    SELECT status, currency, value,
        coalesce(stage, '') AS stage,
        coalesce(facility, '') AS facility,
        coalesce(channel, '') AS channel,
        coalesce(customer, '') AS customer
    FROM j
    WHERE kind = $kind AND status IN ('at_risk', 'stalled')
),
long AS (
    UNPIVOT risky ON stage, facility, channel, customer INTO NAME dimension VALUE key
),
per_currency AS (
    SELECT dimension, key, currency,
        count(*) FILTER (WHERE status = 'at_risk') AS at_risk,
        count(*) FILTER (WHERE status = 'stalled') AS stalled,
        sum(value) AS value
    FROM long
    GROUP BY dimension, key, currency
),
by_key AS (
    SELECT dimension, key,
        sum(at_risk)::BIGINT AS at_risk,
        sum(stalled)::BIGINT AS stalled,
        coalesce(
            list({'currency': currency, 'value': value} ORDER BY currency NULLS LAST)
                FILTER (WHERE value IS NOT NULL),
            []
        ) AS amounts
    FROM per_currency
    GROUP BY dimension, key
),
ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY dimension ORDER BY at_risk + stalled DESC, key
    ) AS rank
    FROM by_key
)
SELECT dimension, key, at_risk, stalled, amounts
FROM ranked
WHERE rank <= $limit
ORDER BY dimension, rank
