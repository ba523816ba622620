-- Journeys with their status at $now (the rule of correlator.rules.status_at).
SELECT *, CASE
    WHEN state = 'done' THEN 'done'
    WHEN state = 'failed' THEN 'failed'
    WHEN next_due_at IS NOT NULL AND $now >= next_due_at THEN 'stalled'
    WHEN error_open OR (at_risk_at IS NOT NULL AND $now >= at_risk_at) THEN 'at_risk'
    ELSE 'on_track'
END AS status
FROM journeys
