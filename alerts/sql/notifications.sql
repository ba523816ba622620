SELECT n.notification_id, n.group_key, n.receiver, n.integration, n.created_at, n.status,
    n.attempts, n.next_attempt_at, n.sent_at, n.last_error
FROM notifications AS n
WHERE ($status IS NULL OR n.status = $status)
ORDER BY n.notification_id DESC
LIMIT $limit
