-- Inventory hop lag per facility and system pair over journeys whose hop happened since $since.
SELECT facility, from_system, system AS to_system, from_stage, stage AS to_stage,
    count(*) AS hops,
    quantile_cont(latency_seconds, 0.5) AS p50_seconds,
    quantile_cont(latency_seconds, 0.95) AS p95_seconds,
    max(latency_seconds) AS max_seconds
FROM journey_hops
WHERE kind = 'inventory' AND latency_seconds IS NOT NULL AND entered_at >= $since
  AND ($facility IS NULL OR facility = $facility)
GROUP BY ALL
ORDER BY facility, min(entered_at - to_seconds(latency_seconds))
