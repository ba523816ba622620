-- A restart keeps the last success for display; staleness counts from the later of the two.
INSERT INTO tower_jobs (name, interval_seconds, registered_at)
VALUES ($name, $interval_seconds, $now)
ON CONFLICT (name) DO UPDATE SET
    interval_seconds = excluded.interval_seconds,
    registered_at = excluded.registered_at
