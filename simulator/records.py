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

__all__ = ["Emission", "FaultRecord", "JourneyRef", "Story", "format_time"]

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
