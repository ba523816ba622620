-- Store one group commit's validated events: drop duplicates, number the new ones, explode keys.
-- In: `incoming` (validate.sql's columns plus batch_no), $base_seq (last committed seq).
-- Leaves `staged` (one row per item: batch_no, is_new, seq) for the caller's per-batch counts.

CREATE OR REPLACE TEMP TABLE staged AS
WITH numbered AS (
    SELECT *, hash(event_id) AS id_hash,
        row_number() OVER (PARTITION BY event_id ORDER BY batch_no, idx) AS copy_no
    FROM incoming
),
-- The narrow hash column finds candidates cheaply; the exact event_id decides (hashes collide).
already_stored AS (
    SELECT e.event_id FROM events AS e SEMI JOIN numbered AS n ON e.id_hash = n.id_hash
),
flagged AS (
    SELECT n.*, n.copy_no = 1 AND n.event_id NOT IN (SELECT event_id FROM already_stored) AS is_new
    FROM numbered AS n
)
SELECT *, CASE WHEN is_new
    THEN $base_seq + row_number() OVER (PARTITION BY is_new ORDER BY batch_no, idx) END AS seq
FROM flagged;

INSERT INTO events
SELECT seq, event_id, id_hash, occurred_at, received_at, source, system, facility, type,
    object_type, keys, correlation_id, status, error, attributes, related
FROM staged WHERE is_new ORDER BY seq;

INSERT INTO event_keys
SELECT seq, NULL, object_type, unnest(map_keys(k)), unnest(map_values(k))
FROM (SELECT seq, object_type, from_json(keys, '"MAP(VARCHAR, VARCHAR)"') AS k
      FROM staged WHERE is_new);

INSERT INTO event_keys
SELECT seq, related_index, r.object_type, unnest(map_keys(r.keys)), unnest(map_values(r.keys))
FROM (
    SELECT seq, unnest(range(len(rel))) AS related_index, unnest(rel) AS r
    FROM (SELECT seq, from_json(related, '[{"object_type": "VARCHAR", "keys": "MAP(VARCHAR, VARCHAR)"}]') AS rel
          FROM staged WHERE is_new AND related <> '[]')
);
