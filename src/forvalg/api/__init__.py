"""The HTTP API: `create_app(services)` builds it; nothing happens on import."""
