-- Store a batch of queue samples (the registered Arrow table `incoming`). A sample already
-- stored (same broker, vhost, queue and time) is not stored again, so a retried post is safe.
INSERT INTO queue_samples BY NAME
SELECT i.*
FROM incoming AS i
WHERE NOT EXISTS (
    SELECT 1 FROM queue_samples AS s
    WHERE s.broker = i.broker AND s.vhost = i.vhost AND s.queue = i.queue
      AND s.sampled_at = i.sampled_at
)
QUALIFY row_number() OVER (PARTITION BY i.broker, i.vhost, i.queue, i.sampled_at) = 1
