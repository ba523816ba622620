-- Stitched-over events that joined no journey (e.g. only dimension keys), newest first.
SELECT e.seq, e.event_id, e.occurred_at, e.source, e.system, e.facility, e.type,
    e.object_type, e.keys
FROM events AS e
ANTI JOIN journey_events AS je USING (seq)
WHERE e.seq <= (SELECT value FROM correlator_state WHERE name = 'watermark')
  AND ($before_seq IS NULL OR e.seq < $before_seq)
  AND ($source IS NULL OR e.source = $source)
ORDER BY e.seq DESC
LIMIT $limit
