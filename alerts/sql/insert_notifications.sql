INSERT INTO notifications (group_key, receiver, integration, target, created_at, status, attempts,
    next_attempt_at, payload)
SELECT group_key, receiver, integration, target, created_at, 'pending', 0, created_at, payload
FROM notification_batch
