-- An exception's newest occurrences with their keys.
SELECT o.ref, o.occurred_at, o.recorded_at, o.error, o.correlation_id, o.detail,
    coalesce((SELECT map_from_entries(list({'key': k.namespace, 'value': k.value}))
              FROM exception_keys AS k WHERE k.ref = o.ref), MAP {}) AS keys
FROM exception_occurrences AS o
WHERE o.exception_id = $exception_id
ORDER BY o.occurred_at DESC, o.ref
LIMIT $limit
