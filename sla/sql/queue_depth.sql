-- The newest sample of each queue: depth and the age of its oldest message.
-- Expects queue_samples (queue, sampled_at, depth, oldest_age_seconds).
SELECT queue,
    arg_max(depth, sampled_at) AS depth,
    arg_max(oldest_age_seconds, sampled_at) AS oldest_age_seconds,
    max(sampled_at) AS sampled_at
FROM queue_samples
WHERE sampled_at <= $now
  AND ($queues::VARCHAR[] IS NULL OR list_contains($queues::VARCHAR[], queue))
GROUP BY queue
ORDER BY queue
