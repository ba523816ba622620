-- Refused items, newest first.
SELECT reject_id, received_at, request_id, batch_index, line, reason, raw
FROM event_rejects
WHERE ($before_id IS NULL OR reject_id < $before_id)
ORDER BY reject_id DESC
LIMIT $limit
