UPDATE users SET disabled_at = $at
WHERE username = $username AND disabled_at IS NULL
RETURNING username
