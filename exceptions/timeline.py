"""Replays on the journeys: each published message becomes a `message.replayed` event.

The events go through the collector's own validation and writer, like any posted event, so the
replay shows on the timeline of the journey the message's keys name, and the correlator links
it as usual. The event id is fixed per replay and message: a retried write is a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson

from collector.ingest import Item, validate
from collector.writer import Writer
from tower.clock import Clock
from tower.db import Store

__all__ = ["EventSink", "replay_events", "writer_sink"]

log = logging.getLogger(__name__)

EventSink = Callable[[list[dict[str, Any]]], int]  # events in, how many were stored


def replay_events(
    rows: Sequence[dict[str, Any]],
    *,
    replay_id: str,
    exception_id: int,
    by: str,
    at: datetime,
    object_types: dict[str, str],
    default_object_type: str,
) -> list[dict[str, Any]]:
    """One event per published dead letter that carries business keys (pure)."""
    events = []
    for row in rows:
        keys = orjson.loads(row["keys"]) if isinstance(row["keys"], str) else dict(row["keys"])
        own = {k: v for k, v in keys.items() if k not in ("mw_message", "correlation")}
        if not own:
            continue  # no business key: no journey to show it on
        namespace = next(iter(own))
        events.append(
            {
                "event_id": f"tower.replay:{replay_id}:{row['message_ref']}",
                "occurred_at": at.isoformat(),
                "source": "tower.replay",
                "system": "middleware",
                "type": "message.replayed",
                "object_type": object_types.get(namespace, default_object_type),
                "keys": own,
                "correlation_id": row["correlation_id"],
                "attributes": {
                    "exception_id": exception_id,
                    "replay_id": replay_id,
                    "message_id": row["message_id"],
                    "exchange": row["exchange"],
                    "routing_key": row["routing_key"],
                    "dead_letter_queue": row["queue"],
                    "replayed_by": by,
                },
            }
        )
    return events


def writer_sink(*, store: Store, writer: Writer, clock: Clock, timeout: float = 30.0) -> EventSink:
    """An EventSink that validates and commits through the tower's writer, and waits."""

    def sink(events: list[dict[str, Any]]) -> int:
        if not events:
            return 0
        items = [Item(i, None, orjson.dumps(e).decode()) for i, e in enumerate(events)]
        batch = validate(store, items, received_at=clock())
        for reason in batch.rejects["reason"].to_pylist():
            log.warning("a replay event was refused: %s", reason)
        outcome = writer.submit(batch, request_id="tower.replay").result(timeout)
        return outcome.accepted

    return sink
