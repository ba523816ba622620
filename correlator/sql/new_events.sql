-- The next events past the watermark, in ingest order.
SELECT seq, object_type, keys, related
FROM events
WHERE seq > $watermark
ORDER BY seq
LIMIT $limit
