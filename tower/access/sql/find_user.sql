SELECT username, role, password_hash FROM users
WHERE username = $username AND disabled_at IS NULL
