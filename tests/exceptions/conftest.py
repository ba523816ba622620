from __future__ import annotations

from collections.abc import Iterator

import pytest

# the dashboards' headless Chromium (installed when missing), for the Exceptions page
from tests.dashboards.conftest import browser, browser_context, page  # noqa: F401
from tests.queues.broker import BrokerUnavailable, RabbitMq, ensure_installed


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMq]:
    """A real RabbitMQ with its management API (tests/queues/broker.py), for the session."""
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
