SELECT exception_id, expires_at, confirmed_at, confirmed_by FROM replay_plans WHERE token = $token
