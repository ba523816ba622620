INSERT INTO users (username, role, password_hash, created_at)
VALUES ($username, $role, $password_hash, $at)
ON CONFLICT (username) DO UPDATE
SET role = excluded.role, password_hash = excluded.password_hash, disabled_at = NULL
