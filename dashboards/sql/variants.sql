-- The most frequent paths (stage sequences) of one kind's journeys started since $since.
WITH cohort AS (
    SELECT journey_id FROM journeys
    WHERE kind = $kind AND started_at >= $since AND started_at <= $now
      AND ($facility IS NULL OR facility = $facility)
      AND ($channel IS NULL OR channel = $channel)
),
paths AS (
    SELECT h.journey_id, string_agg(h.stage, ' > ' ORDER BY h.entered_at, h.stage) AS path
    FROM journey_hops AS h JOIN cohort USING (journey_id)
    WHERE h.kind = $kind
    GROUP BY h.journey_id
)
SELECT path, count(*) AS journeys, count(*) / sum(count(*)) OVER () AS share
FROM paths
GROUP BY path
ORDER BY journeys DESC, path
LIMIT $limit
