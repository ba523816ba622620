-- Open journeys of $kind that entered $from_stage at or before their cutoff and have reached
-- neither $to_stage nor any stage after it ($later) (breaching_groups.sql groups them). The
-- cutoff is $cutoff, or the facility's own in $cal_cutoffs (see stalled_in_stage.sql).
SELECT j.journey_id, j.label, j.facility, j.customer, j.channel, j.value, j.currency, j.stage,
    h.entered_at
FROM journeys AS j
JOIN journey_hops AS h ON h.journey_id = j.journey_id AND h.stage = $from_stage
LEFT JOIN (
    SELECT unnest($cal_facilities::VARCHAR[]) AS facility,
        unnest($cal_cutoffs::TIMESTAMPTZ[]) AS cutoff
) AS c ON c.facility = j.facility
WHERE j.kind = $kind AND j.state = 'open' AND h.entered_at <= $latest
  AND h.entered_at <= coalesce(c.cutoff, $cutoff)
  AND NOT EXISTS (
      SELECT 1 FROM journey_hops AS l
      WHERE l.journey_id = j.journey_id AND list_contains($later::VARCHAR[], l.stage))
