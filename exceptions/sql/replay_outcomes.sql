-- How replays since $since went.
SELECT outcome, count(*) AS messages FROM replays
WHERE replayed_at >= $since AND outcome <> 'already_replayed'
GROUP BY outcome
