-- Inventory hop lag p50/p95 per facility and system pair, per time bucket of the hop.
SELECT coalesce(facility, '') AS facility, from_system, system AS to_system,
    time_bucket($bucket, entered_at) AS bucket,
    count(*) AS hops,
    quantile_cont(latency_seconds, 0.5) AS p50_seconds,
    quantile_cont(latency_seconds, 0.95) AS p95_seconds
FROM journey_hops
WHERE kind = 'inventory' AND latency_seconds IS NOT NULL AND from_system IS NOT NULL
  AND entered_at >= $since AND entered_at <= $now
  AND ($facility IS NULL OR facility = $facility)
GROUP BY ALL
ORDER BY facility, from_system, to_system, bucket
