-- Replace the alerts of this cycle (alert_batch, an Arrow table registered by the caller).
DELETE FROM alerts WHERE fingerprint IN (SELECT fingerprint FROM alert_batch);
INSERT INTO alerts BY NAME SELECT * FROM alert_batch;
