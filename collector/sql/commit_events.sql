-- Store one group commit's new events and their key rows.
-- In: `staged` (validate.sql's columns plus seq and id_hash) and `staged_keys` (seq plus
-- collector/event_keys.py's columns), only for the events that are new, already numbered in
-- commit order by the writer (collector/writer.py decides what is new).

INSERT INTO events
SELECT seq, event_id, id_hash, occurred_at, received_at, source, system, facility, type,
    object_type, keys, correlation_id, status, error, attributes, related
FROM staged;

INSERT INTO event_keys
SELECT seq, related_index, object_type, namespace, value
FROM staged_keys;
