-- Inventory hop latency per facility over hops that happened in ($since, $now]: the
-- $percentile, the worst hop and the system pair it was between.
SELECT facility,
    count(*) AS hops,
    quantile_cont(latency_seconds, $percentile) AS p_seconds,
    max(latency_seconds) AS max_seconds,
    arg_max(coalesce(from_system, '?') || ' -> ' || system, latency_seconds) AS worst_hop
FROM journey_hops
WHERE kind = 'inventory' AND latency_seconds IS NOT NULL
  AND entered_at > $since AND entered_at <= $now
  AND ($facilities::VARCHAR[] IS NULL OR list_contains($facilities::VARCHAR[], facility))
GROUP BY facility
ORDER BY facility
