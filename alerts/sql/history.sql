SELECT history_id, happened_at, fingerprint, alertname, event, from_state, to_state, detail
FROM alert_history
WHERE ($fingerprint IS NULL OR fingerprint = $fingerprint)
  AND ($since::TIMESTAMPTZ IS NULL OR happened_at >= $since::TIMESTAMPTZ)
ORDER BY history_id DESC
LIMIT $limit
