"""A real tower on a fresh DuckDB file whose exceptions job and correlator the test drives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from correlator.jobs import run_once as correlate
from correlator.models import load_models
from exceptions.jobs import ExceptionsConfig, RunReport
from exceptions.jobs import run_once as run_exceptions
from tests.servers import ThreadServer
from tower.db import Store
from tower.settings import Settings

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Tower:
    """The server (its clock set by the test), its store, and the jobs run on demand."""

    def __init__(self, server: ThreadServer, http: httpx.Client) -> None:
        self.server = server
        self.http = http
        self.models = load_models()

    @property
    def store(self) -> Store:
        store: Store = self.server.app.state.store
        return store

    @property
    def config(self) -> ExceptionsConfig:
        config: ExceptionsConfig = self.server.app.state.exceptions
        return config

    def post(self, *events: dict[str, Any]) -> None:
        answer = self.http.post("/api/v1/events", json=list(events)).json()
        assert answer["rejected"] == [], answer
        correlate(store=self.store, models=self.models)

    def run(self, at: datetime) -> RunReport:
        return run_exceptions(store=self.store, config=self.config, now=at)

    def exceptions(self, **params: Any) -> list[dict[str, Any]]:
        response = self.http.get("/api/v1/exceptions", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def detail(self, exception_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/exceptions/{exception_id}")
        assert response.status_code == 200, response.text
        detail: dict[str, Any] = response.json()
        return detail

    def journey_of(self, key: str) -> int:
        found = self.http.get("/api/v1/journeys/search", params={"q": key}).json()["items"]
        assert len(found) == 1, found
        return int(found[0]["journey_id"])


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def running_tower(tmp_path: Path, clock: Clock, **settings: Any) -> Iterator[Tower]:
    """A tower whose scheduled jobs are set far apart: the test runs them."""
    config = Settings(
        db_path=tmp_path / "tower.duckdb",
        correlate_every=timedelta(hours=1),
        sla_every=timedelta(hours=1),
        exceptions_every=timedelta(hours=1),
        **settings,
    )
    with (
        ThreadServer(config, clock=clock) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        yield Tower(server, http)
