-- The newest sample of every queue: depth and the age of its oldest message, deepest first.
SELECT broker, vhost, queue, sampled_at, depth, oldest_age_seconds, consumers, dead_letter
FROM queue_samples
QUALIFY row_number() OVER (PARTITION BY broker, vhost, queue ORDER BY sampled_at DESC) = 1
ORDER BY depth DESC, broker, vhost, queue
LIMIT $limit
