INSERT INTO tower_samples (sampled_at, metric, value)
SELECT $at, unnest($metrics), unnest($values);
DELETE FROM tower_samples WHERE sampled_at < $keep_after;
