-- Each dead-letter queue the tower reads: messages at the last poll and the oldest one's death.
SELECT broker, vhost, queue,
    count(*) FILTER (WHERE present) AS messages,
    min(coalesce(died_at, first_seen_at)) FILTER (WHERE present) AS oldest_died_at,
    count(DISTINCT exception_id) FILTER (WHERE present) AS exceptions,
    max(last_seen_at) AS polled_at
FROM dead_letters
GROUP BY broker, vhost, queue
ORDER BY broker, vhost, queue
