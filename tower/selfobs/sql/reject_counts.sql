-- Items received in a window: stored events and refused items (each reject is one item).
SELECT
    (SELECT count(*) FROM events WHERE received_at > $since AND received_at <= $now) AS events,
    (SELECT count(*) FROM event_rejects WHERE received_at > $since AND received_at <= $now)
        AS rejects
