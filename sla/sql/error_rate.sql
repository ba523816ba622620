-- Events and error events per source that happened in ($since, $now].
SELECT source,
    count(*) AS events,
    count(*) FILTER (WHERE status = 'error') AS errors
FROM events
WHERE occurred_at > $since AND occurred_at <= $now
  AND ($sources::VARCHAR[] IS NULL OR list_contains($sources::VARCHAR[], source))
GROUP BY source
ORDER BY source
