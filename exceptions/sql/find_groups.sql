-- The exceptions of the given group keys.
SELECT group_key, exception_id, status FROM exceptions WHERE list_contains($keys, group_key)
