-- Confirm a plan once: only an unconfirmed plan comes back, and is confirmed by this statement.
UPDATE replay_plans SET confirmed_by = $by, confirmed_at = $now
WHERE token = $token AND exception_id = $exception_id AND confirmed_at IS NULL
  AND expires_at > $now
RETURNING message_refs
