-- Open journeys of $kind whose latest event is an error, unresolved since $cutoff or earlier
-- (breaching_groups.sql groups them).
SELECT j.journey_id, j.label, j.facility, j.customer, j.channel, j.value, j.currency, j.stage,
    j.last_event_at AS entered_at
FROM journeys AS j
WHERE j.kind = $kind AND j.state = 'open' AND j.error_open
  AND j.last_event_at <= $cutoff
