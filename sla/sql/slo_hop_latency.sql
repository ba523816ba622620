-- Good (latency at most $threshold seconds) and total hops of journey kind $kind in each
-- window ending at $now; $windows holds the window lengths in seconds.
WITH h AS (
    SELECT epoch($now::TIMESTAMPTZ) - epoch(entered_at) AS age,
        latency_seconds <= $threshold AS good
    FROM journey_hops
    WHERE kind = $kind AND latency_seconds IS NOT NULL
      AND entered_at > $now::TIMESTAMPTZ - to_seconds(list_max($windows::DOUBLE[]))
      AND entered_at <= $now::TIMESTAMPTZ
      AND ($stages::VARCHAR[] IS NULL OR list_contains($stages::VARCHAR[], stage))
)
SELECT w.seconds,
    count(*) FILTER (WHERE h.good AND h.age < w.seconds) AS good,
    count(*) FILTER (WHERE h.age < w.seconds) AS total
FROM (SELECT unnest($windows::DOUBLE[]) AS seconds) AS w
CROSS JOIN h
GROUP BY w.seconds
ORDER BY w.seconds
