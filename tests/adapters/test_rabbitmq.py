"""The RabbitMQ management API parser on real answers of several versions, and dead letters."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adapters.rabbitmq import (
    RabbitMqDecodeError,
    dead_letter_targets,
    parse_overview,
    parse_queues,
)
from tests.vectors import vector_dir, vector_files

NOW_NS = 1_700_000_000 * 10**9
QUEUE_FILES = vector_files("queues", "rabbitmq-mgmt-*queue*.json")
OVERVIEW_FILES = vector_files("queues", "rabbitmq-mgmt-*overview*.json")


@pytest.mark.parametrize("path", QUEUE_FILES, ids=lambda p: p.name)
def test_every_queue_of_every_version_becomes_a_sample(path: Path) -> None:
    doc = orjson.loads(path.read_bytes())
    samples, rejected = parse_queues(path.read_bytes(), time_ns=NOW_NS, broker="b")
    assert rejected == []
    assert [s.queue for s in samples] == [q["name"] for q in doc]
    for sample, queue in zip(samples, doc, strict=True):
        assert sample.depth == queue["messages"]
        assert sample.ready == queue["messages_ready"]
        assert sample.unacked == queue["messages_unacknowledged"]
        assert sample.consumers == queue["consumers"]
        assert sample.vhost == queue["vhost"]
        assert sample.origin == "rabbitmq"


def test_rates_and_head_message_age() -> None:
    path = vector_dir("queues") / "rabbitmq-mgmt-telegraf-set1-queues.json"
    head = orjson.loads(path.read_bytes())[0]["head_message_timestamp"]
    samples, _ = parse_queues(path.read_bytes(), time_ns=(head + 90) * 10**9, broker="b")
    first = samples[0]
    assert (first.publish_rate, first.deliver_rate) == (11.2, 0.2)
    assert first.oldest_age_seconds == 90.0
    assert first.attributes["type"] == "quorum"


@pytest.mark.parametrize("path", OVERVIEW_FILES, ids=lambda p: p.name)
def test_overview_of_every_version(path: Path) -> None:
    info = parse_overview(path.read_bytes())
    assert "messages" in info.totals
    if "3.8.14" in path.name or "set2" in path.name:
        assert (info.cluster_name, info.version) == ("rabbit@rmqserver", "3.8.14")


def _queue(name: str, **arguments: object) -> dict[str, object]:
    return {"name": name, "vhost": "/", "messages": 3, "arguments": arguments}


def test_dead_letter_queue_found_through_the_exchange_that_points_at_it() -> None:
    queues = [
        _queue("orders.in", **{"x-dead-letter-exchange": "orders-dlx"}),
        _queue("orders.rejected"),  # bound to orders-dlx: a dead-letter queue whatever its name
        _queue("orders.out"),
    ]
    bindings = [
        {"source": "orders-dlx", "vhost": "/", "destination": "orders.rejected",
         "destination_type": "queue", "routing_key": ""},
        {"source": "other", "vhost": "/", "destination": "orders.out",
         "destination_type": "queue", "routing_key": ""},
    ]  # fmt: skip
    samples, _ = parse_queues(orjson.dumps(queues), time_ns=NOW_NS, broker="b", bindings=bindings)
    flags = {s.queue: s.dead_letter for s in samples}
    assert flags == {"orders.in": False, "orders.rejected": True, "orders.out": False}
    assert samples[1].attributes["dead_letter_by"] == "arguments"
    assert samples[0].attributes["dead_letter_exchange"] == "orders-dlx"


def test_default_exchange_routing_key_and_policies_point_at_queues() -> None:
    queues = [
        {**_queue("a", **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "a-bad"})},
        {"name": "b", "vhost": "v", "effective_policy_definition": {"dead-letter-exchange": "b-x"}},
    ]
    assert dead_letter_targets(queues) == {("/", "a-bad"), ("v", "b-x")}


@pytest.mark.parametrize(
    ("name", "dead"),
    [
        ("orders.dlq", True), ("orders-dlq", True), ("orders.dead", True), ("dlq.orders", True),
        ("orders.dead-letter", True), ("dead_letters.orders", True), ("DeadLetter", True),
        ("orders", False), ("deadline.reminders", False), ("orders.dlqs", False),
    ],
)  # fmt: skip
def test_dead_letter_names(name: str, dead: bool) -> None:
    samples, _ = parse_queues([_queue(name)], time_ns=NOW_NS, broker="b")
    assert samples[0].dead_letter is dead


def test_refuses_what_is_not_a_queue_list() -> None:
    with pytest.raises(RabbitMqDecodeError):
        parse_queues(b"{not json", time_ns=NOW_NS, broker="b")
    with pytest.raises(RabbitMqDecodeError):
        parse_queues(b'{"error": "not_authorised"}', time_ns=NOW_NS, broker="b")
    samples, rejected = parse_queues(b'[{"name": "q"}, 7, {"vhost": "/"}]', time_ns=0, broker="b")
    assert [s.queue for s in samples] == ["q"]
    assert [(r.index, r.reason) for r in rejected] == [
        (1, "not a queue object (no name)"),
        (2, "not a queue object (no name)"),
    ]
