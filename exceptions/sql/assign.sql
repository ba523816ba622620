UPDATE exceptions SET owner = coalesce($owner, owner), assignee = coalesce($assignee, assignee),
    updated_at = $now
WHERE exception_id = $exception_id
