UPDATE api_keys SET last_used_at = greatest(coalesce(last_used_at, u.at), u.at)
FROM (SELECT unnest($key_ids) AS key_id, $at::TIMESTAMPTZ AS at) AS u
WHERE api_keys.key_id = u.key_id
