-- How many of one kind's journeys started since $since reached each stage, in the order the
-- stages are usually reached (their mean position in a journey's history).
WITH cohort AS (
    SELECT journey_id FROM journeys
    WHERE kind = $kind AND started_at >= $since AND started_at <= $now
      AND ($facility IS NULL OR facility = $facility)
      AND ($channel IS NULL OR channel = $channel)
),
placed AS (
    SELECT h.journey_id, h.stage,
        row_number() OVER (PARTITION BY h.journey_id ORDER BY h.entered_at, h.stage) AS position
    FROM journey_hops AS h JOIN cohort USING (journey_id)
    WHERE h.kind = $kind
)
SELECT stage, count(DISTINCT journey_id) AS journeys, avg(position) AS position
FROM placed
GROUP BY stage
ORDER BY position, stage
