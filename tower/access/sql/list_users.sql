SELECT username, role, created_at, disabled_at FROM users ORDER BY username
