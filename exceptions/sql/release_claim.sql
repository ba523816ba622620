-- Nothing was published (refused, or routed nowhere): the message may be replayed again.
DELETE FROM replay_claims WHERE message_ref = $ref AND replay_id = $replay_id
