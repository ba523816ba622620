-- Open journeys of $kind sitting in $stage since $cutoff or earlier (breaching_groups.sql
-- groups them).
SELECT j.journey_id, j.label, j.facility, j.customer, j.channel, j.value, j.currency, j.stage,
    j.stage_entered_at AS entered_at
FROM journeys AS j
WHERE j.kind = $kind AND j.state = 'open' AND j.stage = $stage
  AND j.stage_entered_at <= $cutoff
