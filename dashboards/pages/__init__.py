"""One module per page: TITLE, layout(ctx, params) (pure) and register(app, ctx) (callbacks)."""
