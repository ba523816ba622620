INSERT INTO replay_plans (token, exception_id, message_refs, planned_by, planned_at, expires_at)
VALUES ($token, $exception_id, $message_refs, $by, $now, $expires_at)
