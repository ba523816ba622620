-- Before storing a poll of a queue: nothing of it is known to be there until seen again.
UPDATE dead_letters SET present = FALSE
WHERE broker = $broker AND vhost = $vhost AND queue = $queue AND present
