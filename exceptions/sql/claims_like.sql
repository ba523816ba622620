-- Claims under one prefix (an HTTP replay action's).
SELECT message_ref FROM replay_claims WHERE starts_with(message_ref, $prefix)
