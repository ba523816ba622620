"""Dead letters on RabbitMQ: read without consuming, publish back, take out after replay.

`parse_messages` is pure (the management API's JSON in, DeadLetter records out); the rest
talks to the management API: POST /api/queues/{vhost}/{queue}/get with ackmode
ack_requeue_true (every message read is put back where it was), and
POST /api/exchanges/{vhost}/{exchange}/publish. Business keys come from the message's headers,
properties and body, read with the log extractor rules (adapters/rules/logs.yaml).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from adapters.logs import LogRules, read_record
from adapters.records import Rejected

__all__ = [
    "DeadLetter",
    "Publication",
    "parse_messages",
    "peek",
    "publish",
    "remove_replayed",
]

log = logging.getLogger(__name__)

# headers RabbitMQ adds on dead-lettering: dropped when a message is published back
DEATH_HEADERS = ("x-death", "x-first-death-", "x-last-death-")
# headers where senders and frameworks (Spring AMQP, MassTransit, NServiceBus) put the error
ERROR_HEADERS = (
    "x-exception-message",
    "x-exception",
    "x-error",
    "error",
    "exception",
    "MT-Fault-Message",
    "NServiceBus.ExceptionInfo.Message",
)
PUBLISHABLE = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "message_id",
    "timestamp",
    "type",
    "app_id",
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered message, as the broker showed it."""

    broker: str
    vhost: str
    queue: str
    message_id: str
    correlation_id: str | None
    exchange: str
    routing_key: str
    from_queue: str | None
    reason: str
    deaths: int
    died_at: datetime | None
    properties: dict[str, Any]
    payload: str
    payload_encoding: str
    keys: dict[str, str] = field(default_factory=dict)
    object_type: str | None = None
    error: str = ""
    facility: str | None = None
    partner: str | None = None

    @property
    def message_ref(self) -> str:
        """This copy of the message: a later death of the same message is another copy."""
        return _hash(self.broker, self.vhost, self.queue, self.message_id, str(self.deaths))

    @property
    def claim_ref(self) -> str:
        """The message itself, whatever its copies: replayed at most once under this."""
        return _hash(self.broker, self.vhost, self.message_id)


@dataclass(frozen=True, slots=True)
class Publication:
    routed: bool


def parse_messages(
    doc: Any, *, broker: str, vhost: str, queue: str, rules: LogRules
) -> tuple[list[DeadLetter], list[Rejected]]:
    """The management API's get answer as dead letters; each unreadable item with its reason."""
    if not isinstance(doc, list):
        return [], [Rejected(0, "the get answer is not a JSON list")]
    letters: list[DeadLetter] = []
    refused: list[Rejected] = []
    for index, item in enumerate(doc):
        if not isinstance(item, dict) or not isinstance(item.get("properties", {}), dict):
            refused.append(Rejected(index, "not a message object with properties"))
            continue
        letters.append(_letter(item, broker=broker, vhost=vhost, queue=queue, rules=rules))
    return letters, refused


def _letter(
    item: dict[str, Any], *, broker: str, vhost: str, queue: str, rules: LogRules
) -> DeadLetter:
    props: dict[str, Any] = dict(item.get("properties") or {})
    headers: dict[str, Any] = dict(props.get("headers") or {})
    deaths = [d for d in headers.get("x-death") or [] if isinstance(d, dict)]
    # RabbitMQ keeps x-death newest first: the last entry is the message's first death, whose
    # exchange and routing keys are where the message was originally published.
    first = deaths[-1] if deaths else {}
    routing_keys = first.get("routing-keys") or [item.get("routing_key") or ""]
    exchange = str(
        headers.get("x-first-death-exchange", first.get("exchange", item.get("exchange")))
    )
    payload = str(item.get("payload") or "")
    encoding = str(item.get("payload_encoding") or "string")
    message_id = _text(props.get("message_id")) or "sha256:" + _hash(payload, encoding)
    reason = _text(first.get("reason")) or _text(headers.get("x-first-death-reason")) or "unknown"
    error_text = next((_text(headers.get(h)) for h in ERROR_HEADERS if _text(headers.get(h))), None)
    plain = {k: v for k, v in headers.items() if not k.startswith(DEATH_HEADERS)}
    keys, body = _keys(props, plain, payload, encoding, rules)
    namespace = next(iter(keys), None)
    object_type = (
        rules.object_types.get(namespace, rules.default_object_type) if namespace else None
    )
    return DeadLetter(
        broker=broker,
        vhost=vhost,
        queue=queue,
        message_id=message_id,
        correlation_id=_text(props.get("correlation_id")),
        exchange=exchange,
        routing_key=str(routing_keys[0]),
        from_queue=_text(first.get("queue")) or _text(headers.get("x-first-death-queue")),
        reason=reason,
        deaths=sum(int(d.get("count") or 1) for d in deaths) or 1,
        died_at=_time(first.get("time")),
        properties=props,
        payload=payload,
        payload_encoding=encoding,
        keys=keys,
        object_type=object_type,
        error=f"{reason}: {error_text}" if error_text else reason,
        facility=_text(plain.get("facility")) or _text(body.get("facility")),
        partner=_text(plain.get("partner")) or _text(body.get("partner")),
    )


def _keys(
    props: dict[str, Any], headers: dict[str, Any], payload: str, encoding: str, rules: LogRules
) -> tuple[dict[str, str], dict[str, Any]]:
    """Keys from properties and headers first, then from the body; and the body if JSON."""
    meta = {k: props[k] for k in ("message_id", "correlation_id") if _text(props.get(k))}
    meta.update(headers)
    found = dict(read_record([_line(meta)], rules=rules, source="dead-letter").keys)
    text = payload
    if encoding == "base64":
        try:
            text = base64.b64decode(payload).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return found, {}
    body: dict[str, Any] = {}
    try:
        doc = orjson.loads(text)
        if isinstance(doc, dict):
            body = doc
            text = _line(doc)  # one line: the JSON extractor reads it whole
    except orjson.JSONDecodeError:
        pass
    for namespace, value in read_record(
        text.splitlines() or [""], rules=rules, source=""
    ).keys.items():
        found.setdefault(namespace, value)
    return found, body


def _line(doc: dict[str, Any]) -> str:
    return orjson.dumps(doc, default=str).decode()


# -- the management API -----------------------------------------------------------------------


def peek(
    *,
    client: httpx.Client,
    url: str,
    vhost: str,
    queue: str,
    count: int,
    auth: tuple[str, str] | None = None,
) -> Any:
    """Up to `count` messages from the head of a queue, each put back (ack_requeue_true)."""
    return _get(client, url, vhost, queue, count, "ack_requeue_true", auth)


def publish(
    *,
    client: httpx.Client,
    letter: DeadLetter,
    replay_id: str,
    auth: tuple[str, str] | None = None,
    restore_to: str | None = None,
) -> Publication:
    """Publish the message to its original exchange and routing key.

    With `restore_to`, put it back unchanged (death headers kept) into that queue instead.
    """
    props = {k: v for k, v in letter.properties.items() if k in PUBLISHABLE}
    if restore_to is None:
        headers = {
            k: v for k, v in (props.get("headers") or {}).items() if not k.startswith(DEATH_HEADERS)
        }
        headers["x-tower-replay"] = replay_id  # consumers and the journey can tell a replay
        props["headers"] = headers
    target = letter.exchange if restore_to is None else ""
    routing_key = letter.routing_key if restore_to is None else restore_to
    path = f"/api/exchanges/{_q(letter.vhost)}/{_q(target or 'amq.default')}/publish"
    response = client.post(
        letter.broker.rstrip("/") + path,
        json={
            "properties": props,
            "routing_key": routing_key,
            "payload": letter.payload,
            "payload_encoding": letter.payload_encoding,
        },
        auth=auth if auth else httpx.USE_CLIENT_DEFAULT,
    )
    response.raise_for_status()
    return Publication(routed=bool(response.json().get("routed")))


def remove_replayed(
    *,
    client: httpx.Client,
    url: str,
    vhost: str,
    queue: str,
    replayed: Collection[tuple[str, int]],
    rules: LogRules,
    auth: tuple[str, str] | None = None,
    window: int = 100,
) -> list[tuple[str, int]]:
    """Take replayed messages out of a dead-letter queue; (message id, deaths) of each taken.

    The management API takes only from the head. Safety rule: look at the head (putting it
    back), count the run of messages at the head that were replayed (same message id and same
    death count, so a later failure of a replayed message stays), take exactly that many, and
    publish back to the queue anything taken that was not in the run (another reader raced us).
    """
    head, _ = parse_messages(
        peek(client=client, url=url, vhost=vhost, queue=queue, count=window, auth=auth),
        broker=url,
        vhost=vhost,
        queue=queue,
        rules=rules,
    )
    wanted = set(replayed)
    run = 0
    for letter in head:
        if (letter.message_id, letter.deaths) not in wanted:
            break
        run += 1
    if run == 0:
        return []
    taken, _ = parse_messages(
        _get(client, url, vhost, queue, run, "ack_requeue_false", auth),
        broker=url,
        vhost=vhost,
        queue=queue,
        rules=rules,
    )
    removed: list[tuple[str, int]] = []
    for letter in taken:
        if (letter.message_id, letter.deaths) in wanted:
            removed.append((letter.message_id, letter.deaths))
            continue
        log.warning("dead letter %s taken by a race; publishing it back", letter.message_id)
        restored = publish(
            client=client,
            letter=letter,
            replay_id="",
            auth=auth,
            restore_to=queue,
        )
        if not restored.routed:
            log.error("dead letter %s could not be put back into %s", letter.message_id, queue)
    return removed


def _get(
    client: httpx.Client,
    url: str,
    vhost: str,
    queue: str,
    count: int,
    ackmode: str,
    auth: tuple[str, str] | None,
) -> Any:
    response = client.post(
        f"{url.rstrip('/')}/api/queues/{_q(vhost)}/{_q(queue)}/get",
        json={"count": count, "ackmode": ackmode, "encoding": "auto"},
        auth=auth if auth else httpx.USE_CLIENT_DEFAULT,
    )
    response.raise_for_status()
    return response.json()


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    return text or None


def _time(value: Any) -> datetime | None:
    """x-death's time: Unix seconds in the management API's JSON, or an ISO 8601 text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
