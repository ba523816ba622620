UPDATE alerts
SET acked_by = $by, acked_at = $now, owner = $owner, ack_comment = $comment, updated_at = $now
WHERE fingerprint = $fingerprint AND state IN ('pending', 'firing')
RETURNING fingerprint, alertname
