"""A running tower whose correlator and SLA/alert cycles the test drives, at a clock it sets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from alerts.jobs import CycleReport
from alerts.jobs import run_once as alerts_run_once
from alerts.models import AlertingConfig
from correlator.jobs import run_once as correlate
from correlator.models import load_models
from sla.jobs import evaluate_once, stages_of
from sla.models import SlaFile, load_slas
from sla.rules import Evaluation
from tests.factories import make_event
from tests.servers import ThreadServer
from tower.db import Store
from tower.settings import Settings

# Monday 09:00 in New York, 06:00 in Los Angeles, 15:00 in Amsterdam: every demo warehouse is
# on shift for hours after it, so the shipped working-hours SLAs count as the wall clock does.
# Days before the machine's own clock: the scheduler's real-time jobs are never "stale" on it.
T0 = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)


class Tower:
    """The real server (fixed clock), its store, and the SLA definitions under test."""

    def __init__(self, server: ThreadServer, http: httpx.Client, definitions: SlaFile) -> None:
        self.server = server
        self.http = http
        self.models = load_models()
        self.stages = stages_of(self.models)
        self.definitions = definitions
        self.now = T0

    @property
    def store(self) -> Store:
        store: Store = self.server.app.state.store
        return store

    def post(self, *events: dict[str, Any]) -> None:
        answer = self.http.post("/api/v1/events", json=list(events)).json()
        assert answer["rejected"] == [], answer
        correlate(store=self.store, models=self.models)

    def evaluate(self, at: datetime) -> Evaluation:
        self.now = at
        return evaluate_once(
            store=self.store, definitions=self.definitions, stages=self.stages, now=at
        )

    def cycle(self, at: datetime, config: AlertingConfig | None = None) -> CycleReport:
        self.now = at
        return alerts_run_once(
            store=self.store,
            definitions=self.definitions,
            stages=self.stages,
            config=config or AlertingConfig(),
            now=at,
        )


@contextmanager
def running_tower(tmp_path: Path, sla_yaml: str | None = None) -> Iterator[Tower]:
    """A tower on a fresh DuckDB file; its own scheduled jobs are set far apart (tests drive)."""
    sla_file = None
    if sla_yaml is not None:
        sla_file = tmp_path / "slas.yaml"
        sla_file.write_text(sla_yaml)
    settings = Settings(
        db_path=tmp_path / "tower.duckdb",
        correlate_every=timedelta(hours=1),
        sla_every=timedelta(hours=1),
        sla_file=sla_file,
    )
    models = load_models()
    definitions = load_slas(sla_file, stages=stages_of(models))
    holder: dict[str, Tower] = {}
    with (
        ThreadServer(settings, clock=lambda: holder["t"].now if holder else T0) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        holder["t"] = Tower(server, http, definitions)
        yield holder["t"]


def order(
    type: str,
    at: datetime,
    order_id: str,
    *,
    system: str = "erp",
    facility: str = "DC-EAST",
    **attributes: Any,
) -> dict[str, Any]:
    """An order event at `at` for order `order_id`."""
    return make_event(
        type=type,
        occurred_at=at.isoformat(),
        keys={"oms_order": order_id},
        system=system,
        source=f"{system}.main",
        facility=facility,
        attributes=attributes,
    )


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that records what it is sent.

    `fail_next` answers 500 that many times first (a receiver that is down, then recovers).
    """

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"down for maintenance")
                    return
                receiver.bodies.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
