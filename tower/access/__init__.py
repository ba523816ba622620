"""Who may call the tower: API keys with scopes, checked on every /api/v1 and OTLP request."""
