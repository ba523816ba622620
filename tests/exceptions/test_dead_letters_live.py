"""Dead letters on a real RabbitMQ: read without consuming, grouped, linked, replayed once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import SecretStr

from tests.exceptions.support import T0, Clock, Tower, running_tower
from tests.factories import make_event
from tests.queues.broker import RabbitMq, _q

ROUTING = """\
default: {owner: integration-team}
rules:
  - name: orders-in
    match: {origin: dead_letter, source: 'rabbitmq:t11.orders.in'}
    owner: order-integration
    severity: high
"""


def _until(what: str, check: Callable[[], Any], *, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        time.sleep(0.1)


def publish(rabbitmq: RabbitMq, n: int, order: str, prefix: str = "t11") -> None:
    """An order message with a message id and a correlation id, to the orders exchange."""
    answer = rabbitmq.call(
        "POST",
        f"/api/exchanges/%2F/{prefix}.orders/publish",
        {
            "properties": {
                "message_id": f"m-{n}",
                "correlation_id": f"corr-{order}",
                "content_type": "application/json",
                "headers": {"x-exception-message": f"Validation failed: line {n} has no price"},
            },
            "routing_key": "order.created",
            "payload": orjson.dumps({"order_id": order, "lines": n}).decode(),
            "payload_encoding": "string",
        },
    ).json()
    assert answer["routed"], answer


def take(rabbitmq: RabbitMq, queue: str, ackmode: str) -> list[dict[str, Any]]:
    """What a consumer gets from `queue` (ack_requeue_false) or a look (ack_requeue_true)."""
    items: list[dict[str, Any]] = rabbitmq.call(
        "POST",
        f"/api/queues/%2F/{_q(queue)}/get",
        {"count": 50, "ackmode": ackmode, "encoding": "auto"},
    ).json()
    return items


def declare(rabbitmq: RabbitMq, prefix: str = "t11") -> None:
    """orders (direct) -> orders.in, which dead-letters through dlx (fanout) to orders.dlq."""
    rabbitmq.declare_exchange(f"{prefix}.orders", "direct")
    rabbitmq.declare_exchange(f"{prefix}.dlx", "fanout")
    rabbitmq.declare_queue(f"{prefix}.orders.in", {"x-dead-letter-exchange": f"{prefix}.dlx"})
    rabbitmq.bind(f"{prefix}.orders", f"{prefix}.orders.in", "order.created")
    rabbitmq.declare_queue(f"{prefix}.orders.dlq")
    rabbitmq.bind(f"{prefix}.dlx", f"{prefix}.orders.dlq")


def reject_all(rabbitmq: RabbitMq, count: int, prefix: str = "t11") -> None:
    """The consumer refuses `count` messages: they are dead-lettered."""
    rabbitmq.call(
        "POST",
        f"/api/queues/%2F/{prefix}.orders.in/get",
        {"count": count, "ackmode": "reject_requeue_false", "encoding": "auto"},
    )
    _until(
        "the dead letters",
        lambda: len(take(rabbitmq, f"{prefix}.orders.dlq", "ack_requeue_true")) == count,
    )


def tower_settings(rabbitmq: RabbitMq, tmp_path: Path, prefix: str = "t11") -> dict[str, Any]:
    """Settings for a tower reading the prefix's dead-letter queue on this broker."""
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING.replace("t11", prefix))
    return {
        "rabbitmq_urls": [rabbitmq.api],
        "rabbitmq_username": "guest",
        "rabbitmq_password": SecretStr("guest"),
        "queue_poll_every": timedelta(hours=1),
        "dead_letter_queues": [f"%2F/{prefix}.orders.dlq"],
        "exceptions_routing_path": routing,
        "replay_rate_per_second": 100.0,
    }


def orders(tower: Tower) -> None:
    tower.post(
        *[
            make_event(type="order.accepted", keys={"oms_order": order}, correlation_id=None)
            for order in ("W-11", "W-12", "W-99")
        ]
    )


def test_dead_letters_become_one_owned_exception_and_replay_once(
    rabbitmq: RabbitMq, tmp_path: Path
) -> None:
    declare(rabbitmq)
    for n, order in enumerate(("W-11", "W-12", "W-11"), start=1):
        publish(rabbitmq, n, order)
    reject_all(rabbitmq, 3)

    clock = Clock(T0)
    with running_tower(tmp_path, clock, **tower_settings(rabbitmq, tmp_path)) as tower:
        orders(tower)
        report = tower.run(T0)
        assert (report.dead_letters, report.errors) == (3, {})
        tower.run(T0 + timedelta(minutes=1))  # read again: nothing is counted twice

        [exc] = tower.exceptions(origin="dead_letter")
        assert (exc["owner"], exc["rule"], exc["severity"]) == (
            "order-integration",
            "orders-in",
            "high",
        )
        assert exc["occurrences"] == 3
        assert exc["place"] == "t11.orders.dlq"
        assert exc["error"].startswith("rejected: Validation failed")
        detail = tower.detail(exc["exception_id"])
        assert {j["label"] for j in detail["journeys"]} == {"oms_order:W-11", "oms_order:W-12"}
        letters = {d["message_id"]: d for d in detail["dead_letters"]}
        assert sorted(letters) == ["m-1", "m-2", "m-3"]
        first = letters["m-1"]
        assert (first["exchange"], first["routing_key"], first["from_queue"]) == (
            "t11.orders",
            "order.created",
            "t11.orders.in",
        )
        assert (first["correlation_id"], first["reason"], first["deaths"]) == (
            "corr-W-11",
            "rejected",
            1,
        )
        assert first["keys"]["oms_order"] == "W-11"
        assert orjson.loads(first["payload"]) == {"order_id": "W-11", "lines": 1}
        # read, not consumed: the queue still holds all three
        assert len(take(rabbitmq, "t11.orders.dlq", "ack_requeue_true")) == 3
        [dlq] = tower.http.get("/api/v1/exceptions/dead-letter-queues").json()["items"]
        assert (dlq["queue"], dlq["messages"]) == ("t11.orders.dlq", 3)
        w99 = tower.journey_of("W-99")
        assert tower.exceptions(journey=w99) == []
        assert len(tower.exceptions(journey=tower.journey_of("W-12"))) == 1

        # replay asked for twice before either is confirmed: each message still goes once
        eid = exc["exception_id"]
        url = f"/api/v1/exceptions/{eid}/replay"
        plan_a = tower.http.post(url, json={"by": "ana"}).json()
        plan_b = tower.http.post(url, json={"by": "bo"}).json()
        assert (plan_a["to_replay"], plan_a["already_replayed"]) == (3, 0)
        assert {m["routing_key"] for m in plan_a["messages"]} == {"order.created"}
        assert take(rabbitmq, "t11.orders.in", "ack_requeue_true") == []  # a plan sends nothing

        done = tower.http.post(
            f"{url}/confirm", json={"by": "ana", "token": plan_a["token"]}
        ).json()
        assert (done["published"], done["already_replayed"]) == (3, 0)
        assert done["removed_from_queue"] == 3
        twice = tower.http.post(f"{url}/confirm", json={"by": "ana", "token": plan_a["token"]})
        assert twice.status_code == 409
        assert "already confirmed by ana" in twice.json()["detail"]
        late = tower.http.post(f"{url}/confirm", json={"by": "bo", "token": plan_b["token"]}).json()
        assert (late["published"], late["already_replayed"]) == (0, 3)

        received = take(rabbitmq, "t11.orders.in", "ack_requeue_false")  # the consumer
        assert sorted(m["properties"]["message_id"] for m in received) == ["m-1", "m-2", "m-3"]
        assert all("x-death" not in m["properties"]["headers"] for m in received)
        assert {m["properties"]["headers"]["x-tower-replay"] for m in received} == {
            done["replay_id"]
        }
        assert take(rabbitmq, "t11.orders.dlq", "ack_requeue_true") == []  # taken out after

        # the journey shows the replay, and continues as the consumer's events arrive
        done_at = T0 + timedelta(hours=7)  # after the order was accepted (14:15 UTC)
        tower.post(make_event(type="order.allocated", keys={"oms_order": "W-11"},
                              occurred_at=done_at.isoformat()))  # fmt: skip
        timeline = tower.http.get(f"/api/v1/journeys/{tower.journey_of('W-11')}").json()
        replays = [e for e in timeline["events"] if e["type"] == "message.replayed"]
        assert done["journey_events"] == 3
        assert sorted(e["attributes"]["message_id"] for e in replays) == ["m-1", "m-3"]
        assert {e["attributes"]["exception_id"] for e in replays} == {eid}
        assert timeline["events"][-1]["type"] == "order.allocated"

        after = tower.detail(eid)
        assert after["status"] == "replayed"
        assert [h["action"] for h in after["history"]][-4:] == [
            "replay_planned",
            "replay_planned",
            "replayed",
            "replayed",
        ]
        assert tower.http.post(url, json={"by": "cy"}).json()["to_replay"] == 0
        kpis = tower.http.get("/api/v1/exceptions/kpis").json()
        assert kpis["replay_success_rate"] == 1.0
        unknown = tower.http.post(url, json={"by": "cy", "message_ids": ["m-404"]})
        assert unknown.status_code == 409
        assert "no dead letter with message id 'm-404'" in unknown.json()["detail"]


def test_a_selection_replays_alone_and_unroutable_messages_can_be_replayed_later(
    rabbitmq: RabbitMq, tmp_path: Path
) -> None:
    declare(rabbitmq, "t11s")
    for n, order in enumerate(("W-21", "W-22"), start=1):
        publish(rabbitmq, n, order, "t11s")
    reject_all(rabbitmq, 2, "t11s")
    with running_tower(tmp_path, Clock(T0), **tower_settings(rabbitmq, tmp_path, "t11s")) as tower:
        tower.run(T0)
        [exc] = tower.exceptions(origin="dead_letter")
        url = f"/api/v1/exceptions/{exc['exception_id']}/replay"

        def replay(*message_ids: str) -> dict[str, Any]:
            plan = tower.http.post(url, json={"by": "ana", "message_ids": list(message_ids)})
            assert plan.status_code == 200, plan.text
            token = plan.json()["token"]
            done = tower.http.post(f"{url}/confirm", json={"by": "ana", "token": token})
            assert done.status_code == 200, done.text
            result: dict[str, Any] = done.json()
            return result

        # m-2 alone: m-1, not replayed, stays at the head, so nothing may be taken out yet
        assert replay("m-2")["published"] == 1
        again = tower.http.post(url, json={"by": "bo", "message_ids": ["m-2"]}).json()
        assert (again["to_replay"], again["already_replayed"]) == (0, 1)
        in_dlq = take(rabbitmq, "t11s.orders.dlq", "ack_requeue_true")
        assert [m["properties"]["message_id"] for m in in_dlq] == ["m-1", "m-2"]
        assert tower.detail(exc["exception_id"])["status"] == "open"  # m-1 is still to replay

        # the original queue is gone: routed nowhere, m-1 is not spent and goes once it is back
        rabbitmq.call("DELETE", "/api/queues/%2F/t11s.orders.in")
        lost = replay("m-1")
        assert lost["messages"][0]["outcome"] == "unroutable"
        assert "routed 'order.created' to no queue" in lost["messages"][0]["error"]
        rabbitmq.declare_queue("t11s.orders.in", {"x-dead-letter-exchange": "t11s.dlx"})
        rabbitmq.bind("t11s.orders", "t11s.orders.in", "order.created")
        back = replay("m-1")
        assert (back["published"], back["removed_from_queue"]) == (1, 2)
        received = take(rabbitmq, "t11s.orders.in", "ack_requeue_false")
        assert [m["properties"]["message_id"] for m in received] == ["m-1"]
        assert take(rabbitmq, "t11s.orders.dlq", "ack_requeue_true") == []
        assert tower.detail(exc["exception_id"])["status"] == "replayed"
        kpis = tower.http.get("/api/v1/exceptions/kpis").json()
        assert kpis["replays"] == {"published": 2, "unroutable": 1}
        assert kpis["replay_success_rate"] == pytest.approx(2 / 3)
