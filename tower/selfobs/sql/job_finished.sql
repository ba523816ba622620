UPDATE tower_jobs SET
    last_started = $started,
    last_finished = $finished,
    last_duration = $seconds,
    runs = runs + 1,
    last_success = CASE WHEN $ok THEN $finished ELSE last_success END,
    failures = failures + CASE WHEN $ok THEN 0 ELSE 1 END,
    last_error = CASE WHEN $ok THEN NULL ELSE $error END
WHERE name = $name
