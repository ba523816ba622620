INSERT INTO silences (silence_id, matchers, starts_at, ends_at, created_by, comment, created_at)
VALUES ($silence_id, $matchers, $starts_at, $ends_at, $created_by, $comment, $created_at)
