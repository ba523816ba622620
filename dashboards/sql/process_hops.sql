-- Stage-to-stage hops of one kind's journeys started since $since (optionally of one facility
-- and channel): how many journeys took each hop, its latency, and the usual system pair.
WITH cohort AS (
    SELECT journey_id FROM journeys
    WHERE kind = $kind AND started_at >= $since AND started_at <= $now
      AND ($facility IS NULL OR facility = $facility)
      AND ($channel IS NULL OR channel = $channel)
)
SELECT h.from_stage, h.stage AS to_stage,
    count(*) AS journeys,
    quantile_cont(h.latency_seconds, 0.5) AS p50_seconds,
    quantile_cont(h.latency_seconds, 0.95) AS p95_seconds,
    mode(h.from_system || ' -> ' || h.system) AS systems
FROM journey_hops AS h JOIN cohort USING (journey_id)
WHERE h.kind = $kind AND h.from_stage IS NOT NULL
GROUP BY h.from_stage, h.stage
ORDER BY journeys DESC, h.from_stage, h.stage
