-- A cycle-time KPI: per time bucket of the end stage, how long journeys of one kind took from
-- one stage to another (first entry of each), with p50 and p95, counted where the cycle ended
-- in [$since, $now]. One pass over the two stages' hops, grouped per journey.
-- Buckets by epoch arithmetic, not time_bucket: on TIMESTAMPTZ, time_bucket goes through ICU
-- calendars row by row (measured: 22 s instead of 0.08 s over 1 M rows); buckets of up to a
-- day fall on the same UTC boundaries either way.
WITH marks AS (
    SELECT journey_id,
        min(entered_at) FILTER (WHERE stage = $from_stage) AS began,
        min(entered_at) FILTER (WHERE stage = $to_stage) AS ended
    FROM journey_hops
    WHERE kind = $kind AND stage IN ($from_stage, $to_stage) AND entered_at <= $now
    GROUP BY journey_id
)
SELECT to_timestamp(floor(epoch(ended) / epoch($bucket)) * epoch($bucket)) AS bucket,
    count(*) AS journeys,
    quantile_cont(epoch(ended - began), 0.5) AS p50_seconds,
    quantile_cont(epoch(ended - began), 0.95) AS p95_seconds
FROM marks
WHERE ended >= $since AND ended <= $now AND ended >= began
GROUP BY bucket
ORDER BY bucket
