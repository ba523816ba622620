SELECT key_id, name, scopes, secret_hash FROM api_keys WHERE revoked_at IS NULL
