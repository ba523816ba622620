-- The most frequent paths (stage sequences) of one kind's journeys started since $since.
WITH cohort AS (
    SELECT journey_id FROM journeys
    WHERE kind = $kind AND started_at >= $since AND started_at <= $now
      AND ($facility IS NULL OR facility = $facility)
      AND ($channel IS NULL OR channel = $channel)
),
paths AS (
    -- a list sorted per journey, not an ordered aggregate: string_agg(... ORDER BY) sorts
    -- every group through the ordered-aggregate path (2.3 s against 0.9 s for 140k journeys)
    SELECT h.journey_id,
        array_to_string(
            list_transform(list_sort(list({'t': h.entered_at, 's': h.stage})), x -> x.s), ' > '
        ) AS path
    FROM journey_hops AS h JOIN cohort USING (journey_id)
    WHERE h.kind = $kind
    GROUP BY h.journey_id
)
SELECT path, count(*) AS journeys, count(*) / sum(count(*)) OVER () AS share
FROM paths
GROUP BY path
ORDER BY journeys DESC, path
LIMIT $limit
