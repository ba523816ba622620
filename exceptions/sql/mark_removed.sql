-- Replayed copies the tower took out of their dead-letter queue.
UPDATE dead_letters SET present = FALSE, removed_at = $now
WHERE list_contains($refs, message_ref)
