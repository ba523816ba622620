-- Store a request's log records as they are. In: `incoming_logs`.
INSERT INTO log_records BY NAME SELECT * FROM incoming_logs
