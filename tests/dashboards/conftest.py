"""Towers with known data for the dashboards' tests, and a real headless Chromium.

Two towers, each started once per session on a fixed clock: `crafted` holds a handful of
hand-written journeys whose figures the tests know exactly; `estate` holds a day of the
simulated distributor (every kind of fault) for realistic pages. Data goes in through the
public API and the correlator's own job, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from correlator.jobs import run_until_caught_up
from correlator.models import load_models
from sla.jobs import stages_of
from sla.models import load_slas
from tests.dashboards import oncall_data, telemetry_data
from tests.dashboards.data import NOW, crafted_events, estate_events
from tests.servers import ThreadServer
from tests.sla.support import T0
from tests.sla.support import Tower as CycleTower
from tower.db import Store
from tower.settings import Settings


@dataclass
class Tower:
    server: ThreadServer
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> Store:
        store: Store = self.server.app.state.store
        return store

    def post(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 5000):
            answer = self.http.post("/api/v1/events", json=events[start : start + 5000]).json()
            assert answer["rejected"] == [], answer["rejected"][:3]

    def correlate(self) -> None:
        run_until_caught_up(store=self.store, models=load_models())

    def api(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


def _tower(tmp: Path, events: list[dict[str, Any]]) -> Iterator[Tower]:
    settings = Settings(
        db_path=tmp / "tower.duckdb",
        correlate_every=timedelta(hours=1),  # the test runs the correlator itself
        sla_every=timedelta(hours=1),
        ui_refresh=timedelta(hours=1),  # no refresh while a test looks at a page
    )
    with (
        ThreadServer(settings, clock=lambda: NOW) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        tower = Tower(server, http)
        tower.post(events)
        tower.correlate()
        yield tower


@pytest.fixture(scope="session")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tower]:
    yield from _tower(tmp_path_factory.mktemp("crafted"), crafted_events())


@pytest.fixture(scope="session")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tower]:
    yield from _tower(tmp_path_factory.mktemp("estate"), estate_events())


@pytest.fixture(scope="session")
def oncall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CycleTower]:
    """A tower whose SLA/alert cycle has run on posted orders until alerts fire (as
    tests/alerts/test_cycle.py drives it), with a queue sample, errors and a reject."""
    tmp = tmp_path_factory.mktemp("oncall")
    settings = Settings(
        db_path=tmp / "tower.duckdb",
        correlate_every=timedelta(hours=1),
        sla_every=timedelta(hours=1),
        ui_refresh=timedelta(hours=1),
    )
    models = load_models()
    holder: dict[str, CycleTower] = {}
    with (
        ThreadServer(settings, clock=lambda: holder["t"].now if holder else T0) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        tower = holder["t"] = CycleTower(server, http, load_slas(None, stages=stages_of(models)))
        tower.post(*oncall_data.events())
        answer = http.post("/api/v1/events", json=[oncall_data.REFUSED]).json()
        assert len(answer["rejected"]) == 1, answer
        answer = http.post("/api/v1/queues/samples", json=oncall_data.QUEUE_SAMPLES).json()
        assert answer["accepted"] == len(oncall_data.QUEUE_SAMPLES), answer
        tower.cycle(oncall_data.BREACHED)  # pending (for: 5m)
        tower.cycle(oncall_data.FIRED)
        yield tower


@pytest.fixture(scope="session")
def extras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tower]:
    """A tower with spans, log records, neighbouring orders and queue samples
    (tests/dashboards/telemetry_data.py), in through the events, OTLP, logs and queues APIs."""
    settings = Settings(
        db_path=tmp_path_factory.mktemp("extras") / "tower.duckdb",
        correlate_every=timedelta(hours=1),
        sla_every=timedelta(hours=1),
        ui_refresh=timedelta(hours=1),
    )
    with (
        ThreadServer(settings, clock=lambda: telemetry_data.NOW) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        tower = Tower(server, http)
        tower.post(telemetry_data.events())
        for path, body in (
            ("/v1/traces", telemetry_data.spans()),
            ("/v1/logs", telemetry_data.logs()),
            ("/api/v1/queues/samples", telemetry_data.queue_samples()),
        ):
            answer = http.post(path, json=body)
            assert answer.status_code == 200, answer.text
        answer = http.post(
            "/api/v1/logs",
            params={"source": "erp.s4"},
            content=telemetry_data.ERROR_LINE + "\n",
            headers={"Content-Type": "text/plain"},
        )
        assert answer.status_code == 200 and answer.json()["events"]["accepted"] == 1, answer.text
        tower.correlate()
        yield tower
