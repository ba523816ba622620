"""Which scope each request needs: by method and path, so routers added later are covered too."""

from __future__ import annotations

from tower.access.keys import Scope

__all__ = ["required_scope"]

API = "/api/v1/"
OTLP = "/v1/"
# Open so that load balancers, probes and Prometheus can reach them without a key.
OPEN = ("/api/v1/health",)
INGEST_POSTS = frozenset(
    {
        "/api/v1/events",
        "/api/v1/logs",
        "/api/v1/edi",
        "/api/v1/queues/samples",
        "/api/v1/queues/metrics",
    }
)
INGEST_PREFIXES = ("/api/v1/webhooks/",)
READ_METHODS = frozenset({"GET", "HEAD"})


def required_scope(method: str, path: str) -> Scope | None:
    """The scope a request needs, or None when the path is open (docs, dashboards, metrics)."""
    if path.startswith(OTLP):
        return Scope.INGEST
    if not path.startswith(API) or path.startswith(OPEN):
        return None
    if path.startswith(("/api/v1/keys", "/api/v1/users")):
        return Scope.ADMIN
    if method in READ_METHODS:
        return Scope.READ
    if method == "POST" and (path in INGEST_POSTS or path.startswith(INGEST_PREFIXES)):
        return Scope.INGEST
    return Scope.ADMIN  # acknowledging, silencing, assigning, replaying
