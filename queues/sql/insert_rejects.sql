-- Queue samples refused by validation, kept with the raw item like refused events.
INSERT INTO event_rejects (received_at, request_id, batch_index, line, reason, raw)
SELECT received_at, request_id, batch_index, NULL, reason, raw FROM refused
