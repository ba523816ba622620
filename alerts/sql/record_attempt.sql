-- One delivery attempt and where it leaves the notification.
INSERT INTO delivery_attempts (notification_id, attempt, attempted_at, ok, status_code, error)
VALUES ($id, $attempt, $now, $ok, $status_code, $error);
UPDATE notifications
SET attempts = $attempt, status = $status, next_attempt_at = $next_attempt_at,
    sent_at = CASE WHEN $ok THEN $now END, last_error = $error
WHERE notification_id = $id;
