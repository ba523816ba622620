-- Which of the candidate ids (event_id, id_hash) the store already holds: the exact check
-- behind the writer's in-memory hash set, run only for ids that set says it may have seen.
SELECT DISTINCT c.event_id
FROM candidates AS c
SEMI JOIN events AS e ON e.id_hash = c.id_hash AND e.event_id = c.event_id
