-- The newest $history samples of every queue matching the filters, newest first per queue.
SELECT broker, vhost, queue, sampled_at, depth, ready, unacked, consumers, publish_rate,
    deliver_rate, oldest_age_seconds, dead_letter, origin, attributes
FROM queue_samples
WHERE ($broker IS NULL OR broker = $broker)
  AND ($vhost IS NULL OR vhost = $vhost)
  AND ($queue IS NULL OR queue = $queue)
  AND ($since IS NULL OR sampled_at >= $since)
QUALIFY row_number() OVER (PARTITION BY broker, vhost, queue ORDER BY sampled_at DESC) <= $history
    AND ($dead_letter IS NULL
         OR bool_or(dead_letter) OVER (PARTITION BY broker, vhost, queue) = $dead_letter)
ORDER BY broker, vhost, queue, sampled_at DESC
