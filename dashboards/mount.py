"""The dashboards as an ASGI app for the tower to mount at /ui.

Dash serves through Flask (WSGI); a2wsgi runs it in a thread pool of its own, so a slow
dashboard query never blocks the event loop the ingest API answers on. The mount exists from
create_app on; the Dash app is built when the lifespan opens the store (503 until then).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from a2wsgi import WSGIMiddleware
from starlette.types import Receive, Scope, Send

from correlator.models import ModelSet
from tower.clock import Clock
from tower.db import Store

__all__ = ["Ui"]


class Ui:
    """An ASGI app: the dashboards over one store, once `open` has been called."""

    def __init__(
        self,
        *,
        prefix: str = "/ui/",
        zones: Mapping[str, str] | None = None,
        refresh: timedelta = timedelta(seconds=30),
        models: ModelSet | None = None,
        workers: int = 8,
    ) -> None:
        self.prefix = prefix
        # kind -> its main-line stages in order: the funnel's steps
        self.stages = {m.kind: [s.name for s in m.stages] for m in models or []}
        self.zones = dict(zones or {})
        for facility, name in self.zones.items():  # a wrong zone fails at start, not per page
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"facility_zones: {facility}: unknown time zone {name!r}") from exc
        self.refresh = refresh
        self.workers = workers
        self._wsgi: WSGIMiddleware | None = None

    def open(self, *, store: Store, clock: Clock) -> None:
        """Build the Dash app over this store (called from the tower's lifespan)."""
        from dashboards.app import create_dash  # Dash and Plotly load here, not at import

        dash = create_dash(
            store=store,
            clock=clock,
            prefix=self.prefix,
            zones=self.zones,
            refresh=self.refresh,
            stages=self.stages,
        )
        self._wsgi = WSGIMiddleware(dash.server, workers=self.workers)

    def close(self) -> None:
        """Stop the worker threads (waits for requests in flight)."""
        if self._wsgi is not None:
            self._wsgi.executor.shutdown(wait=True, cancel_futures=True)
            self._wsgi = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._wsgi is None:
            if scope["type"] == "http":
                await send(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [(b"content-type", b"text/plain"), (b"retry-after", b"1")],
                    }
                )
                await send({"type": "http.response.body", "body": b"the tower is starting"})
            return
        await self._wsgi(scope, receive, send)  # type: ignore[arg-type]  # a2wsgi types
