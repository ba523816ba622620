-- Each receiver integration's delivery record: its last attempt and how the window went.
SELECT
    n.receiver,
    n.integration,
    max(a.attempted_at) AS last_attempt,
    max(a.attempted_at) FILTER (WHERE a.ok) AS last_success,
    arg_max(a.ok, a.attempted_at) AS last_ok,
    arg_max(a.error, a.attempted_at) AS last_error,
    count(*) FILTER (WHERE a.attempted_at >= $since) AS attempts,
    count(*) FILTER (WHERE NOT a.ok AND a.attempted_at >= $since) AS failures
FROM delivery_attempts AS a
JOIN notifications AS n USING (notification_id)
WHERE a.attempted_at <= $now
GROUP BY n.receiver, n.integration
ORDER BY n.receiver, n.integration
