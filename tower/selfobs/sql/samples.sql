-- The tower's own figures over time, oldest first, for the on-call page's Tower panel.
SELECT sampled_at, metric, value
FROM tower_samples
WHERE sampled_at > $since AND sampled_at <= $now
ORDER BY sampled_at, metric
