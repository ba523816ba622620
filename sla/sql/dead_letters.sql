-- Growth of each dead-letter queue over ($since, $now]: newest depth minus the depth at the
-- last sample at or before $since (or the first in the window). Without a $queues list, the
-- queues the broker (or the queue's name) marks as dead-letter queues; a work queue's depth
-- goes up and down all day and is queue_depth's business.
SELECT queue,
    arg_max(depth, sampled_at) - coalesce(
        arg_max(depth, sampled_at) FILTER (WHERE sampled_at <= $since),
        arg_min(depth, sampled_at)) AS growth,
    arg_max(depth, sampled_at) AS depth
FROM queue_samples
WHERE sampled_at <= $now
  AND CASE WHEN $queues::VARCHAR[] IS NULL THEN dead_letter
      ELSE list_contains($queues::VARCHAR[], queue) END
GROUP BY queue
ORDER BY queue
