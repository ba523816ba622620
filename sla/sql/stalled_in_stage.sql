-- Open journeys of $kind sitting in $stage since their cutoff or earlier (breaching_groups.sql
-- groups them). The cutoff is $cutoff, or the facility's own in $cal_cutoffs where the SLA
-- counts working hours ($cal_facilities: facilities with a calendar); $latest, the latest of
-- them all, lets the scan skip what no cutoff can reach.
SELECT j.journey_id, j.label, j.facility, j.customer, j.channel, j.value, j.currency, j.stage,
    j.stage_entered_at AS entered_at
FROM journeys AS j
LEFT JOIN (
    SELECT unnest($cal_facilities::VARCHAR[]) AS facility,
        unnest($cal_cutoffs::TIMESTAMPTZ[]) AS cutoff
) AS c ON c.facility = j.facility
WHERE j.kind = $kind AND j.state = 'open' AND j.stage = $stage
  AND j.stage_entered_at <= $latest
  AND j.stage_entered_at <= coalesce(c.cutoff, $cutoff)
