-- Archived events matching the same filters as collector/sql/list_events.sql (key by value,
-- in any namespace; the archive keeps values, not their namespaces), newest first.
SELECT seq, event_id, occurred_at, received_at, source, system, facility, type, object_type,
    keys, correlation_id, status, error, attributes, related
FROM read_parquet($files, union_by_name = true)
WHERE ($before_seq IS NULL OR seq < $before_seq)
  AND ($type IS NULL OR type = $type)
  AND ($source IS NULL OR source = $source)
  AND ($system IS NULL OR system = $system)
  AND ($facility IS NULL OR facility = $facility)
  AND ($object_type IS NULL OR object_type = $object_type)
  AND ($since IS NULL OR occurred_at >= $since)
  AND ($until IS NULL OR occurred_at < $until)
  AND ($key IS NULL OR list_contains(key_values, $key))
ORDER BY seq DESC
LIMIT $limit
