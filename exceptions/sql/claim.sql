-- Claim messages for a replay; only the claims taken now come back (at most once).
INSERT INTO replay_claims SELECT * FROM incoming_claims
ON CONFLICT DO NOTHING
RETURNING message_ref
