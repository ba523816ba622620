-- Events per source that occurred in [since, now], and how many reported status error.
SELECT source,
    count(*) AS events,
    count(*) FILTER (WHERE status = 'error') AS errors,
    count(*) FILTER (WHERE status = 'error') / count(*) AS error_rate
FROM events
WHERE occurred_at >= $since AND occurred_at <= $now
GROUP BY source
ORDER BY errors DESC, error_rate DESC, source
LIMIT $limit
