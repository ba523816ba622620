"""RabbitMQ management API answers to queue samples (pure: JSON in, samples out).

`/api/queues` gives each queue's depth, ready and unacknowledged counts, consumers, rates and
the timestamp of the message at its head; `/api/overview` names the cluster; `/api/bindings`
(optional) says which queues a dead-letter exchange routes to. A queue is a dead-letter queue
when another queue's `x-dead-letter-exchange` (argument or policy) points at it, or when its
name says so (`orders.dlq`, `orders.dead`, `dead-letter.orders`, ...). The poller that fetches
these documents lives in queues/jobs.py; this module does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.records import QueueSample, Rejected

__all__ = [
    "DEAD_LETTER_NAME",
    "BrokerInfo",
    "RabbitMqDecodeError",
    "dead_letter_targets",
    "parse_overview",
    "parse_queues",
]

# Names that say "dead letters": a .dlq/.dlx/.dead/.error suffix (or -/_), a dead-letter or
# deadletter word, a DLQ prefix.
DEAD_LETTER_NAME = re.compile(
    r"(?i)(?:[._-](?:dlq|dlx|dead|deadletter|dead[._-]letters?|parking[._-]?lot)$"
    r"|^(?:dlq|dlx)[._-]|dead[._-]?letter)"
)
# Attributes worth keeping from a queue object (the rest is broker internals).
KEPT = ("type", "node", "state", "durable", "auto_delete", "exclusive", "policy", "arguments")


class RabbitMqDecodeError(ValueError):
    """A management API answer that is not what the endpoint returns."""


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """What /api/overview says about the broker."""

    cluster_name: str | None
    version: str | None
    totals: dict[str, Any] = field(default_factory=dict)


def _json(payload: bytes | str | Any) -> Any:
    if isinstance(payload, bytes | str):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise RabbitMqDecodeError(f"not JSON: {exc}") from exc
    return payload


def parse_overview(payload: bytes | str | dict[str, Any]) -> BrokerInfo:
    """The cluster name, version and message totals of an /api/overview answer."""
    doc = _json(payload)
    if not isinstance(doc, dict):
        raise RabbitMqDecodeError("an /api/overview answer is a JSON object")
    version = doc.get("rabbitmq_version") or doc.get("product_version")
    totals = doc.get("queue_totals") if isinstance(doc.get("queue_totals"), dict) else {}
    return BrokerInfo(
        cluster_name=_text(doc.get("cluster_name")) or _text(doc.get("node")),
        version=_text(version),
        totals={k: v for k, v in (totals or {}).items() if isinstance(v, int | float)},
    )


def dead_letter_targets(
    queues: Iterable[dict[str, Any]], bindings: Iterable[dict[str, Any]] = ()
) -> set[tuple[str, str]]:
    """(vhost, queue) of every queue some queue's dead-letter exchange routes to.

    A dead-letter exchange of "" (the default exchange) routes by the dead-letter routing key,
    which is then a queue name. Without bindings, a queue named like the exchange counts.
    """
    routes: set[tuple[str, str]] = set()  # (vhost, dead-letter exchange)
    direct: set[tuple[str, str]] = set()
    for queue in queues:
        vhost = str(queue.get("vhost", "/"))
        exchange, key = _dead_letter_route(queue)
        if exchange is None:
            continue
        if exchange == "":
            if key:
                direct.add((vhost, key))
            continue
        routes.add((vhost, exchange))
    targets = set(direct)
    bound: set[tuple[str, str]] = set()
    for binding in bindings:
        # Routing keys are not matched: every queue bound to a dead-letter exchange may
        # receive dead letters (fanout and topic exchanges ignore or pattern-match the key).
        vhost = str(binding.get("vhost", "/"))
        exchange = str(binding.get("source", ""))
        if binding.get("destination_type", "queue") == "queue" and (vhost, exchange) in routes:
            bound.add((vhost, exchange))
            targets.add((vhost, str(binding.get("destination", ""))))
    for vhost, exchange in routes:
        if (vhost, exchange) not in bound:
            targets.add((vhost, exchange))  # the common convention: exchange and queue share a name
    return targets


def parse_queues(
    payload: bytes | str | list[dict[str, Any]],
    *,
    time_ns: int,
    broker: str,
    bindings: Iterable[dict[str, Any]] = (),
) -> tuple[list[QueueSample], list[Rejected]]:
    """One sample per queue of an /api/queues answer; items that are not queues are refused."""
    doc = _json(payload)
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        doc = doc["items"]  # the paginated form (?page=1)
    if not isinstance(doc, list):
        raise RabbitMqDecodeError("an /api/queues answer is a JSON array of queue objects")
    valid = [q for q in doc if isinstance(q, dict) and isinstance(q.get("name"), str)]
    targets = dead_letter_targets(valid, bindings)
    samples: list[QueueSample] = []
    rejected: list[Rejected] = []
    for index, queue in enumerate(doc):
        if not isinstance(queue, dict) or not isinstance(queue.get("name"), str):
            rejected.append(Rejected(index, "not a queue object (no name)"))
            continue
        samples.append(_sample(queue, time_ns=time_ns, broker=broker, targets=targets))
    return samples, rejected


def _sample(
    queue: dict[str, Any], *, time_ns: int, broker: str, targets: set[tuple[str, str]]
) -> QueueSample:
    name = str(queue["name"])
    vhost = str(queue.get("vhost", "/"))
    ready = _int(queue.get("messages_ready"))
    unacked = _int(queue.get("messages_unacknowledged"))
    depth = _int(queue.get("messages"))
    if depth is None:
        depth = (ready or 0) + (unacked or 0)
    found = queue.get("message_stats")
    stats: dict[str, Any] = found if isinstance(found, dict) else {}
    head = queue.get("head_message_timestamp")
    age = None
    if isinstance(head, int | float) and not isinstance(head, bool) and head > 0 and depth:
        seconds = float(head) / 1000 if head > 1e11 else float(head)  # some publishers send ms
        age = max(time_ns / 1e9 - seconds, 0.0)
    exchange, _ = _dead_letter_route(queue)
    attributes = {k: queue[k] for k in KEPT if queue.get(k) not in (None, "", {})}
    if exchange is not None:
        attributes["dead_letter_exchange"] = exchange
    by_argument = (vhost, name) in targets
    by_name = bool(DEAD_LETTER_NAME.search(name))
    if by_argument or by_name:
        attributes["dead_letter_by"] = "arguments" if by_argument else "name"
    return QueueSample(
        time_ns=time_ns,
        broker=broker,
        vhost=vhost,
        queue=name,
        depth=depth,
        origin="rabbitmq",
        ready=ready,
        unacked=unacked,
        consumers=_int(queue.get("consumers")),
        publish_rate=_rate(stats, "publish"),
        deliver_rate=_rate(stats, "deliver_get") or _rate(stats, "deliver"),
        oldest_age_seconds=age,
        dead_letter=by_argument or by_name,
        attributes=attributes,
    )


def _dead_letter_route(queue: dict[str, Any]) -> tuple[str | None, str | None]:
    """The dead-letter exchange and routing key of a queue: its arguments, else its policy."""
    for source, prefix in (("arguments", "x-"), ("effective_policy_definition", "")):
        found = queue.get(source)
        if isinstance(found, dict) and isinstance(found.get(f"{prefix}dead-letter-exchange"), str):
            key = found.get(f"{prefix}dead-letter-routing-key")
            return found[f"{prefix}dead-letter-exchange"], key if isinstance(key, str) else None
    return None, None


def _rate(stats: dict[str, Any], name: str) -> float | None:
    details = stats.get(f"{name}_details")
    if isinstance(details, dict) and isinstance(details.get("rate"), int | float):
        return float(details["rate"])
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
