-- Copies in a dead-letter queue that earlier replays published and that are still there.
SELECT d.message_ref, d.message_id, d.deaths FROM dead_letters AS d
WHERE d.broker = $broker AND d.vhost = $vhost AND d.queue = $queue AND d.removed_at IS NULL
  AND EXISTS (SELECT 1 FROM replays AS r
              WHERE r.message_ref = d.message_ref AND r.outcome = 'published')
