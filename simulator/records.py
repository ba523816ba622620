"""What the simulation produces: emissions (an event and when the tower gets it), the stories
they belong to, and the ground-truth records of injected faults.

An emission keeps two times apart on purpose: `occurred_at` is what the source system says (and
what the event carries), `deliver_at` is when the tower receives it. Faults work on either: a
warehouse outage moves only the delivery, a queue backlog moves the step itself, clock skew
moves only what the source claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import orjson

__all__ = [
    "Emission",
    "FaultRecord",
    "JourneyRef",
    "LogLine",
    "SpanPlan",
    "Story",
    "TraceRecord",
    "format_time",
]

# A journey by its main key: (object_type, key namespace, value), e.g. ("order", "oms_order", "W1").
JourneyRef = tuple[str, str, str]


def format_time(moment: datetime, tz: tzinfo = UTC) -> str:
    """RFC 3339 as the source would write it: its own local offset, or Z for UTC sources."""
    local = moment.astimezone(tz).isoformat(timespec="milliseconds")
    return local.replace("+00:00", "Z") if tz is UTC else local


@dataclass(slots=True, eq=False)  # identity: two copies of one event are two deliveries
class Emission:
    """One canonical event plus the simulation's bookkeeping about it."""

    event: dict[str, Any]  # every canonical field except occurred_at
    occurred_at: datetime  # UTC, as the source reports it
    deliver_at: datetime  # UTC, when the tower receives it
    tz: tzinfo  # the source's local zone: how it writes occurred_at
    journeys: tuple[JourneyRef, ...]  # the journeys this event moves, for the ground truth
    queue: str | None = None  # the middleware queue that delivered the step, if any
    # The story it belongs to (set by the stream): the runner keeps a story's deliveries in
    # order across the event, span and log channels, so no journey sees them out of order.
    story: int = -1

    @property
    def event_id(self) -> str:
        return str(self.event["event_id"])

    @property
    def type(self) -> str:
        return str(self.event["type"])

    @property
    def system(self) -> str:
        return str(self.event["system"])

    @property
    def when(self) -> datetime:
        return self.deliver_at

    def to_event(self) -> dict[str, Any]:
        """The event as the tower's public API takes it."""
        out = {
            "event_id": self.event["event_id"],
            "occurred_at": format_time(self.occurred_at, self.tz),
        }
        out.update((k, v) for k, v in self.event.items() if k != "event_id")
        return out

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_event())

    def copy(self, **changes: Any) -> Emission:
        """A copy whose event dict can be changed without touching this one."""
        event = {**self.event, "attributes": dict(self.event.get("attributes", {}))}
        clone = Emission(
            event=event,
            occurred_at=self.occurred_at,
            deliver_at=self.deliver_at,
            tz=self.tz,
            journeys=self.journeys,
            queue=self.queue,
            story=self.story,
        )
        for name, value in changes.items():
            setattr(clone, name, value)
        return clone


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """One injected fault on one or more journeys: the ground truth detection is measured by."""

    fault: str  # the fault kind, e.g. "lost_message"
    name: str  # the scenario's label for it
    at: datetime  # when it happened at the source
    reveal_at: datetime  # when it shows in the delivered stream (and is written to the file)
    journeys: tuple[JourneyRef, ...]
    event_ids: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def when(self) -> datetime:
        return self.reveal_at

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "record": "fault",
                "fault": self.fault,
                "name": self.name,
                "at": format_time(self.at),
                "journeys": [
                    {"object_type": kind, "keys": {namespace: value}}
                    for kind, namespace, value in self.journeys
                ],
                "event_ids": list(self.event_ids),
                "detail": self.detail,
            }
        )


@dataclass(slots=True)
class Story:
    """Everything one generated unit of business does: an order group, a stock change, a PO."""

    kind: str
    start: datetime
    emissions: list[Emission]
    faults: list[FaultRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SpanPlan:
    """One span of a trace, as the integration layer records it; its id is fixed by the seed."""

    span_id: str  # 16 hex digits
    name: str
    kind: str  # an OpenTelemetry SpanKind name, lower case: consumer, client, producer ...
    start: datetime
    end: datetime
    attributes: dict[str, str | int]
    parent: str | None = None  # the parent's span_id; None for the trace's root
    error: str | None = None  # the status message of a span whose status is ERROR


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One trace of one service, exported through the OpenTelemetry SDK to /v1/traces."""

    service: str  # the resource's service.name
    trace_id: str  # 32 hex digits (W3C), fixed by the seed
    spans: tuple[SpanPlan, ...]  # parents before their children
    deliver_at: datetime  # when the exporter gets it to the tower
    story: int
    # A span carries a key, so the tower derives an event that joins a journey: when it is
    # stored, relative to the story's events, matters.
    joins: bool = False

    @property
    def when(self) -> datetime:
        return self.deliver_at


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a system's log, shipped to POST /api/v1/logs under its source."""

    source: str  # the log's source, e.g. erp.s4.sales-orders
    text: str  # the line as the system writes it
    ndjson: bool  # a JSON record (application/x-ndjson) rather than a text line
    at: datetime  # the time the line carries
    deliver_at: datetime  # when the shipper gets it to the tower
    story: int
    joins: bool = False  # an error line with a key: the tower derives a journey's event from it

    @property
    def when(self) -> datetime:
        return self.deliver_at


@dataclass(frozen=True, slots=True)
class QueueSample:
    """One middleware queue's state at one moment, posted to POST /api/v1/queues/samples."""

    broker: str
    vhost: str
    queue: str
    depth: int
    consumers: int
    publish_rate: float
    deliver_rate: float
    oldest_age_seconds: float
    dead_letter: bool
    sampled_at: datetime

    @property
    def when(self) -> datetime:
        return self.sampled_at

    def to_item(self) -> dict[str, Any]:
        return {
            "broker": self.broker,
            "vhost": self.vhost,
            "queue": self.queue,
            "depth": self.depth,
            "ready": self.depth,
            "unacked": 0,
            "consumers": self.consumers,
            "publish_rate": self.publish_rate,
            "deliver_rate": self.deliver_rate,
            "oldest_age_seconds": self.oldest_age_seconds,
            "dead_letter": self.dead_letter,
            "sampled_at": format_time(self.sampled_at),
            "attributes": {"origin": "simulator"},
        }
