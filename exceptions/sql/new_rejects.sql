-- Collector rejects of the last $days days not yet recorded as occurrences, oldest first.
-- (No watermark: reject ids come from a sequence that concurrent writers commit out of order.)
SELECT r.reject_id, r.received_at, r.request_id, r.reason, r.raw
FROM event_rejects AS r
WHERE r.received_at >= $since
  AND NOT EXISTS (SELECT 1 FROM exception_occurrences AS o
                  WHERE o.ref = 'reject:' || r.reject_id::VARCHAR)
ORDER BY r.reject_id
LIMIT $limit
