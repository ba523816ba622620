-- Correlation coverage per source: the share of stitched events whose journey spans at least
-- two systems, and the events that joined no journey at all.
WITH stitched AS (
    SELECT e.source, e.seq, j.systems
    FROM events AS e
    LEFT JOIN journey_events AS je USING (seq)
    LEFT JOIN journeys AS j USING (journey_id)
    WHERE e.seq <= (SELECT value FROM correlator_state WHERE name = 'watermark')
)
SELECT source,
    count(*) AS events,
    count(*) FILTER (WHERE len(systems) >= 2) AS multi_system,
    count(*) FILTER (WHERE systems IS NULL) AS unlinked,
    round(count(*) FILTER (WHERE len(systems) >= 2) / count(*), 4) AS coverage
FROM stitched
GROUP BY source
ORDER BY coverage, source
