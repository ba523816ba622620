INSERT INTO alert_history (happened_at, fingerprint, alertname, event, from_state, to_state, detail)
SELECT happened_at, fingerprint, alertname, event, from_state, to_state, detail FROM history_batch
