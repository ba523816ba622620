UPDATE silences SET ends_at = $now
WHERE silence_id = $silence_id AND ends_at > $now
RETURNING silence_id
