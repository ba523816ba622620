"""A real RabbitMQ polled by the tower's scheduled job: depth, dead letters, their growth."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from tests.queues.broker import RabbitMq
from tests.servers import ThreadServer
from tower.settings import Settings


def _until(what: str, check: Callable[[], Any], *, timeout: float = 30.0) -> Any:
    """Wait for a condition the broker or the tower reaches on its own time; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        time.sleep(0.2)


def test_the_poller_sees_depth_age_and_dead_letters(rabbitmq: RabbitMq, tmp_path: Path) -> None:
    rabbitmq.declare_exchange("t1.orders-dlx")
    rabbitmq.declare_queue("t1.orders.rejected")  # a dead-letter queue by its binding alone
    rabbitmq.bind("t1.orders-dlx", "t1.orders.rejected")
    rabbitmq.declare_queue("t1.orders.in", {"x-dead-letter-exchange": "t1.orders-dlx"})
    rabbitmq.declare_queue("t1.parcels.dlq")  # ... and one by its name
    rabbitmq.declare_queue("t1.plain")
    sent = int(time.time()) - 120
    for n in range(5):
        rabbitmq.publish("t1.orders.in", f"order {n}", timestamp=sent)
    rabbitmq.publish("t1.parcels.dlq", "lost parcel")
    rabbitmq.reject("t1.orders.in", 2)  # rejected without requeue: dead-lettered
    _until("the broker's own counts", lambda: rabbitmq.depth("t1.orders.rejected") == 2)
    _until("the broker's own counts", lambda: rabbitmq.depth("t1.orders.in") == 3)

    settings = Settings(
        db_path=tmp_path / "tower.duckdb",
        rabbitmq_urls=[rabbitmq.api],
        rabbitmq_username="guest",
        rabbitmq_password=SecretStr("guest"),
        queue_poll_every=timedelta(milliseconds=300),
    )
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as client:

        def queues() -> dict[str, Any]:
            items = client.get("/api/v1/queues", params={"history": 50}).json()["items"]
            return {q["queue"]: q for q in items if q["queue"].startswith("t1.")}

        seen = _until("the first poll", lambda: len(queues()) == 4 and queues())
        orders, rejected = seen["t1.orders.in"], seen["t1.orders.rejected"]
        assert orders["latest"]["depth"] == 3
        assert orders["latest"]["ready"] == 3
        assert orders["latest"]["unacked"] == 0
        assert orders["latest"]["consumers"] == 0
        assert orders["latest"]["oldest_age_seconds"] >= 120
        assert orders["latest"]["attributes"]["dead_letter_exchange"] == "t1.orders-dlx"
        assert orders["broker"] == rabbitmq.call("GET", "/api/overview").json()["cluster_name"]
        assert (orders["dead_letter"], orders["vhost"]) == (False, "/")
        assert (rejected["dead_letter"], rejected["latest"]["depth"]) == (True, 2)
        assert rejected["latest"]["attributes"]["dead_letter_by"] == "arguments"
        assert seen["t1.parcels.dlq"]["dead_letter"] is True
        assert seen["t1.plain"]["dead_letter"] is False

        rabbitmq.reject("t1.orders.in", 2)  # the dead-letter queue grows
        grown = _until(
            "a poll after the growth",
            lambda: queues()["t1.orders.rejected"]["latest"]["depth"] == 4 and queues(),
        )
        depths = [s["depth"] for s in grown["t1.orders.rejected"]["history"]]
        assert depths[0] == 4 and 2 in depths
        assert grown["t1.orders.in"]["latest"]["depth"] == 1
