SELECT name, interval_seconds, registered_at, last_started, last_finished, last_success,
       last_duration, runs, failures, last_error
FROM tower_jobs
ORDER BY name
