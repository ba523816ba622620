-- More failures of a known cause: count them; a resolved or replayed exception opens again.
UPDATE exceptions SET
    occurrences = occurrences + $occurrences,
    last_seen_at = greatest(last_seen_at, $last_seen_at),
    error = $error,
    status = CASE WHEN status IN ('resolved', 'replayed') THEN 'open' ELSE status END,
    resolved_at = CASE WHEN status IN ('resolved', 'replayed') THEN NULL ELSE resolved_at END,
    updated_at = $now
WHERE exception_id = $exception_id
