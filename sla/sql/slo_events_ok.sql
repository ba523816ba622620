-- Good (status ok) and total events in each window ending at $now; $windows holds the window
-- lengths in seconds. One row per window that saw any event.
WITH e AS (
    SELECT epoch($now::TIMESTAMPTZ) - epoch(occurred_at) AS age, status = 'ok' AS good
    FROM events
    WHERE occurred_at > $now::TIMESTAMPTZ - to_seconds(list_max($windows::DOUBLE[]))
      AND occurred_at <= $now::TIMESTAMPTZ
      AND ($sources::VARCHAR[] IS NULL OR list_contains($sources::VARCHAR[], source))
)
SELECT w.seconds,
    count(*) FILTER (WHERE e.good AND e.age < w.seconds) AS good,
    count(*) FILTER (WHERE e.age < w.seconds) AS total
FROM (SELECT unnest($windows::DOUBLE[]) AS seconds) AS w
CROSS JOIN e
GROUP BY w.seconds
ORDER BY w.seconds
