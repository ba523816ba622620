-- The collector's most recent refusals (the raw item cut short), newest first.
SELECT reject_id, received_at, request_id, batch_index, line, reason, left(raw, 200) AS raw
FROM event_rejects
ORDER BY reject_id DESC
LIMIT $limit
