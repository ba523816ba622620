-- Whether an alert is muted, and by what: JSON {"silenced_by": [silence ids], "inhibited_by":
-- [fingerprints]}, NULL when it is not. Each change is also an alert_history event (muted,
-- unmuted), so the history says why a firing alert was never notified.
ALTER TABLE alerts ADD COLUMN muted VARCHAR;
