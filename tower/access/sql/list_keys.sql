SELECT key_id, name, scopes, created_at, created_by, revoked_at, last_used_at
FROM api_keys
ORDER BY created_at, key_id
