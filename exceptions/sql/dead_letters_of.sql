-- An exception's dead letters, with whether each was replayed (its claim) and how.
SELECT d.*, c.replay_id IS NOT NULL AS replayed,
    (SELECT r.outcome FROM replays AS r WHERE r.message_ref = d.message_ref
       AND r.outcome <> 'already_replayed' ORDER BY r.replayed_at DESC LIMIT 1) AS replay_outcome
FROM dead_letters AS d
LEFT JOIN replay_claims AS c ON c.message_ref = d.claim_ref
WHERE d.exception_id = $exception_id
ORDER BY d.first_seen_at, d.message_id
