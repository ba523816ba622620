-- Events matching every given filter (NULL means "any"), newest committed first.
SELECT seq, event_id, occurred_at, received_at, source, system, facility, type, object_type,
    keys, correlation_id, status, error, attributes, related
FROM events
WHERE ($before_seq IS NULL OR seq < $before_seq)
  AND ($type IS NULL OR type = $type)
  AND ($source IS NULL OR source = $source)
  AND ($system IS NULL OR system = $system)
  AND ($facility IS NULL OR facility = $facility)
  AND ($object_type IS NULL OR object_type = $object_type)
  AND ($since IS NULL OR occurred_at >= $since)
  AND ($until IS NULL OR occurred_at < $until)
  AND ($key IS NULL OR seq IN (
        SELECT seq FROM event_keys
        WHERE value = $key
          AND ($namespace IS NULL OR namespace = $namespace)
          AND ($include_related OR related_index IS NULL)))
ORDER BY seq DESC
LIMIT $limit
