-- Events old enough to leave the database: received before $cutoff, already stitched by the
-- correlator, and belonging to no journey that has moved since $cutoff (a live journey keeps
-- all of its events, so it can still be rebuilt from them: decision 0004).
CREATE OR REPLACE TEMP TABLE retiring AS
SELECT seq FROM events
WHERE received_at < $cutoff
  AND seq <= (SELECT value FROM correlator_state WHERE name = 'watermark')
  AND seq NOT IN (
      SELECT je.seq FROM journey_events AS je
      JOIN journeys AS j USING (journey_id)
      WHERE j.last_event_at >= $cutoff
  )
