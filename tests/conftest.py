from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser import browser, browser_context, page  # noqa: F401  (shared fixtures)
from tests.queues.broker import BrokerUnavailable, RabbitMq, ensure_installed
from tests.servers import ThreadServer
from tower.settings import Settings

# Tests that are not about access control run without API keys (servers they start in
# subprocesses inherit this too); tests/tower/test_api_keys.py turns it on.
os.environ.setdefault("TOWER_AUTH_REQUIRED", "false")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "tower.duckdb")


@pytest.fixture
def server(settings: Settings) -> Iterator[ThreadServer]:
    with ThreadServer(settings) as running:
        yield running


@pytest.fixture
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMq]:
    """A real RabbitMQ with its management API, started once for every test that needs one."""
    try:
        ensure_installed()
        broker = RabbitMq().start()
    except BrokerUnavailable as exc:
        pytest.skip(f"no RabbitMQ: {exc}")
    try:
        yield broker
    finally:
        broker.stop()
        broker.remove()
