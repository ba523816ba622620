-- Error events committed after the watermark, oldest first.
SELECT seq, event_id, occurred_at, source, system, facility, type, object_type, keys,
    correlation_id, coalesce(error, type) AS error, attributes
FROM events
WHERE seq > $after AND seq <= $upto AND status = 'error'
ORDER BY seq
LIMIT $limit
