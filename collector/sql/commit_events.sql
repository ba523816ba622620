-- Store one group commit's new events and explode their keys for lookup.
-- In: `staged` (validate.sql's columns plus seq and id_hash), only the events that are new,
-- already numbered in commit order by the writer (collector/writer.py decides what is new).

INSERT INTO events
SELECT seq, event_id, id_hash, occurred_at, received_at, source, system, facility, type,
    object_type, keys, correlation_id, status, error, attributes, related
FROM staged;

INSERT INTO event_keys
SELECT seq, NULL, object_type, unnest(map_keys(k)), unnest(map_values(k))
FROM (SELECT seq, object_type, from_json(keys, '"MAP(VARCHAR, VARCHAR)"') AS k FROM staged);

INSERT INTO event_keys
SELECT seq, related_index, r.object_type, unnest(map_keys(r.keys)), unnest(map_values(r.keys))
FROM (
    SELECT seq, unnest(range(len(rel))) AS related_index, unnest(rel) AS r
    FROM (SELECT seq, from_json(related, '[{"object_type": "VARCHAR", "keys": "MAP(VARCHAR, VARCHAR)"}]') AS rel
          FROM staged WHERE related <> '[]')
);
