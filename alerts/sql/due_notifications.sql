-- Notifications waiting to be (re)tried at $now, oldest first.
SELECT notification_id, group_key, receiver, integration, target, created_at, attempts, payload
FROM notifications
WHERE status = 'pending' AND next_attempt_at <= $now
ORDER BY notification_id
LIMIT $limit
