-- Breaching journeys counted and valued per group. `found` is one of stage_deadline.sql,
-- stalled_in_stage.sql or journey_errors.sql, spliced in by sla/service.py. A dimension is a
-- group column only when its $by_* flag is set; the $m_* / $x_* lists keep / drop journeys.
WITH found AS (
{found}
),
kept AS (
    SELECT * FROM found AS j
    WHERE ($m_facility::VARCHAR[] IS NULL OR list_contains($m_facility::VARCHAR[], j.facility))
      AND ($m_customer::VARCHAR[] IS NULL OR list_contains($m_customer::VARCHAR[], j.customer))
      AND ($m_channel::VARCHAR[] IS NULL OR list_contains($m_channel::VARCHAR[], j.channel))
      AND NOT coalesce(list_contains($x_facility::VARCHAR[], j.facility), FALSE)
      AND NOT coalesce(list_contains($x_customer::VARCHAR[], j.customer), FALSE)
      AND NOT coalesce(list_contains($x_channel::VARCHAR[], j.channel), FALSE)
),
-- The partner is read from the journey's own events, and only for the journeys already found
-- (only when the SLA names the partner dimension: it costs a join with the events).
partnered AS (
    SELECT f.*, p.partner
    FROM kept AS f
    LEFT JOIN (
        SELECT je.journey_id, min(e.attributes ->> 'partner') AS partner
        FROM journey_events AS je
        JOIN events AS e ON e.seq = je.seq
        WHERE $need_partner AND je.journey_id IN (SELECT journey_id FROM kept)
        GROUP BY je.journey_id
    ) AS p ON p.journey_id = f.journey_id
    WHERE ($m_partner::VARCHAR[] IS NULL OR list_contains($m_partner::VARCHAR[], p.partner))
      AND NOT coalesce(list_contains($x_partner::VARCHAR[], p.partner), FALSE)
)
SELECT
    CASE WHEN $by_facility THEN facility END AS facility,
    CASE WHEN $by_customer THEN customer END AS customer,
    CASE WHEN $by_channel THEN channel END AS channel,
    CASE WHEN $by_partner THEN partner END AS partner,
    count(*) AS affected,
    sum(value) AS amount,
    CASE WHEN count(DISTINCT currency) = 1 THEN min(currency) END AS currency,
    min(entered_at) AS oldest,
    list(label ORDER BY entered_at, journey_id)[1:5] AS sample,
    list_sort(list(DISTINCT stage)) AS stages
FROM partnered
GROUP BY ALL
ORDER BY affected DESC
