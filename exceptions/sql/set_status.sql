-- A person moves an exception along its workflow (the service checks the move is allowed).
UPDATE exceptions SET
    status = $status,
    acknowledged_at = CASE WHEN $status = 'acknowledged' THEN coalesce(acknowledged_at, $now)
                           ELSE acknowledged_at END,
    resolved_at = CASE WHEN $status IN ('resolved', 'replayed') THEN $now ELSE resolved_at END,
    updated_at = $now
WHERE exception_id = $exception_id
