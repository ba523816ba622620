-- Growth of each (dead-letter) queue over ($since, $now]: newest depth minus the depth at the
-- last sample at or before $since (or the first in the window).
SELECT queue,
    arg_max(depth, sampled_at) - coalesce(
        arg_max(depth, sampled_at) FILTER (WHERE sampled_at <= $since),
        arg_min(depth, sampled_at)) AS growth,
    arg_max(depth, sampled_at) AS depth
FROM queue_samples
WHERE sampled_at <= $now
  AND ($queues::VARCHAR[] IS NULL OR list_contains($queues::VARCHAR[], queue))
GROUP BY queue
ORDER BY queue
