-- How many of one kind's journeys started since $since reached each stage (the funnel when
-- the model gives the stages' order: no per-journey ordering to compute, a third of the cost
-- of stage_funnel.sql).
WITH cohort AS (
    SELECT journey_id FROM journeys
    WHERE kind = $kind AND started_at >= $since AND started_at <= $now
      AND ($facility IS NULL OR facility = $facility)
      AND ($channel IS NULL OR channel = $channel)
)
SELECT h.stage, count(DISTINCT h.journey_id) AS journeys
FROM journey_hops AS h JOIN cohort USING (journey_id)
WHERE h.kind = $kind
GROUP BY h.stage
ORDER BY h.stage
