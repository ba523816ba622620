"""Fault injection: a scenario's faults applied to each story as it is generated.

Each fault kind is one function over a story. They run in a fixed order of phases, whatever the
order in the file, because they build on each other: first what changes when steps happen
(errors, dead letters, backlogs, late acknowledgements: later steps wait for them), then what
systems report (drift), then what never arrives, then how events travel (outages, reordering,
duplicates), and last what a skewed clock claims. Every fault leaves a FaultRecord: the ground
truth a detector is measured against.

Whether a fault hits an event is decided by a hash of the seed, the fault's label and the
event id, not by a shared random stream: the same event is faulted the same way in every run
with that seed, however much history the run covers.

Queue backlogs and dead letters show as delayed steps and middleware error events here; with
telemetry, dead letters also as ERROR spans and log lines (simulator/telemetry.py), and both as
queue depth, oldest-message age and a filling .dlq in the queue samples (simulator/queues.py,
built from these faults' records).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.estate import Estate
from simulator.records import Emission, FaultRecord, JourneyRef, Story, format_time
from simulator.scenario import (
    ClockSkew,
    DeadLetter,
    ErpPostingError,
    Fault,
    InventoryDrift,
    QueueBacklog,
    SlowAcknowledgement,
    WarehouseOutage,
)

__all__ = ["FaultInjector"]

PHASES = (
    "erp_posting_error",
    "dead_letter",
    "queue_backlog",
    "slow_acknowledgement",
    "inventory_drift",
    "lost_message",
    "warehouse_outage",
    "out_of_order",
    "duplicate_delivery",
    "clock_skew",
)

ERP_ERRORS = {
    "order.accepted": "Sales order not created: credit limit exceeded for customer {customer}",
    "invoice.posted": "Billing document not posted: account determination error (VKOA)",
    "inventory.posted": "Goods movement not posted: material {sku} locked by user BATCHJOB",
}


@dataclass(frozen=True, slots=True)
class _Active:
    """One fault of the scenario, with its absolute window and its own hash salt."""

    spec: Fault
    salt: str
    begin: datetime | None
    end: datetime | None
    estate: Estate

    def draw(self, *parts: str) -> float:
        """A uniform number in [0, 1) fixed by the seed, this fault and `parts`."""
        text = f"{self.salt}:{':'.join(parts)}".encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64

    def active_at(self, moment: datetime) -> bool:
        return (self.begin is None or moment >= self.begin) and (
            self.end is None or moment < self.end
        )

    def hits(self, emission: Emission) -> bool:
        """In the window, of a type the fault may hit, and chosen at the fault's rate."""
        types: list[str] | None = getattr(self.spec, "types", None)
        if types is not None and emission.type not in types:
            return False
        if emission.event.get("status") == "error" or not self.active_at(emission.occurred_at):
            return False  # injected error events stay as they are: they are the evidence
        rate: float = getattr(self.spec, "rate", 1.0)
        return self.draw(emission.event_id) < rate

    def record(
        self,
        story: Story,
        *,
        at: datetime,
        reveal_at: datetime,
        emissions: Sequence[Emission],
        detail: dict[str, Any],
    ) -> None:
        journeys: dict[JourneyRef, None] = {}
        for emission in emissions:
            journeys.update(dict.fromkeys(emission.journeys))
        story.faults.append(
            FaultRecord(
                fault=self.spec.kind,
                name=self.spec.label,
                at=at,
                reveal_at=reveal_at,
                journeys=tuple(journeys),
                event_ids=tuple(dict.fromkeys(e.event_id for e in emissions)),
                detail=detail,
            )
        )


class FaultInjector:
    """Applies a scenario's faults to each story and records what it did."""

    def __init__(
        self, faults: Sequence[Fault], *, seed: int, now: datetime, estate: Estate
    ) -> None:
        # Salted by label (and its repeat count), not by position: editing or removing one
        # fault never changes which events the others hit.
        seen: Counter[str] = Counter()
        active = []
        for spec in faults:
            seen[spec.label] += 1
            salt = f"{seed}:{spec.kind}:{spec.label}:{seen[spec.label]}"
            active.append(_Active(spec, salt, *spec.window(now), estate))
        self._active = sorted(active, key=lambda a: PHASES.index(a.spec.kind))

    def apply(self, story: Story) -> None:
        for active in self._active:
            _HANDLERS[active.spec.kind](active, story)


def _seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 3)


def _cascade(story: Story, since: datetime, delta: timedelta) -> None:
    """Everything in the story from `since` on happens `delta` later: later steps wait."""
    for emission in story.emissions:
        if emission.occurred_at >= since:
            emission.occurred_at += delta
            emission.deliver_at += delta


def _drop_from(story: Story, since: datetime) -> int:
    """Nothing in the story from `since` on happens at all; returns how many events went."""
    before = len(story.emissions)
    story.emissions[:] = [e for e in story.emissions if e.occurred_at < since]
    return before - len(story.emissions)


def _failure(emission: Emission, *, event_id: str, error: str, **event: Any) -> Emission:
    failed = emission.copy(queue=None)  # a failure report, not a message on the queue
    failed.event.update(event_id=event_id, status="error", error=error, **event)
    return failed


def _erp_posting_error(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, ErpPostingError)
    for emission in list(story.emissions):
        if emission not in story.emissions or emission.system != "erp":
            continue  # dropped by an earlier unrecovered error in this story
        if not active.hits(emission):
            continue
        attributes = emission.event.get("attributes", {})
        text = ERP_ERRORS.get(emission.type, "Document not posted: update terminated")
        failed = _failure(
            emission,
            event_id=f"{emission.event_id}:error",
            error=text.format(customer=attributes.get("customer"), sku=attributes.get("sku")),
        )
        detail: dict[str, Any] = {"type": emission.type, "error": failed.event["error"]}
        when = emission.occurred_at
        if spec.retry_after is None:
            detail.update(recovered=False, dropped_events=_drop_from(story, when))
            evidence = [failed]
        else:
            _cascade(story, when, spec.retry_after)
            detail.update(recovered=True, retried_at=format_time(emission.occurred_at))
            evidence = [failed, emission]
        story.emissions.append(failed)
        active.record(
            story, at=when, reveal_at=failed.deliver_at, emissions=evidence, detail=detail
        )


def _dead_letter(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, DeadLetter)
    mw = active.estate.mw_source
    for emission in list(story.emissions):
        if emission not in story.emissions or emission.queue != spec.queue:
            continue
        if not active.hits(emission):
            continue
        dead = _failure(
            emission,
            event_id=f"{mw}:dead-letter:{emission.event_id}",
            error=f"dead-lettered on {spec.queue} after 5 delivery attempts: consumer "
            f"rejected the message (schema validation failed)",
            source=mw,
            system="middleware",
        )
        dead.tz = UTC
        when = emission.occurred_at
        detail: dict[str, Any] = {"queue": spec.queue, "type": emission.type}
        if spec.replay_after is None:
            detail.update(replayed=False, dropped_events=_drop_from(story, when))
            evidence = [dead]
        else:
            _cascade(story, when, spec.replay_after)
            detail.update(replayed=True, replayed_at=format_time(emission.occurred_at))
            evidence = [dead, emission]
        story.emissions.append(dead)
        active.record(story, at=when, reveal_at=dead.deliver_at, emissions=evidence, detail=detail)


def _queue_backlog(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, QueueBacklog) and active.begin is not None and active.end is not None
    for emission in sorted(story.emissions, key=lambda e: e.occurred_at):
        if emission.queue != spec.queue or not active.active_at(emission.occurred_at):
            continue
        when, due = emission.occurred_at, emission.deliver_at
        released = active.end + (when - active.begin) * spec.drain
        _cascade(story, when, released - when)
        active.record(
            story,
            at=when,
            reveal_at=due,  # from when it should have arrived, the step is late
            emissions=[emission],
            detail={
                "queue": spec.queue,
                "type": emission.type,
                "delayed_s": _seconds(released - when),
            },
        )


def _slow_acknowledgement(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, SlowAcknowledgement)
    for emission in list(story.emissions):
        partner = emission.event.get("attributes", {}).get("partner")
        if (spec.partner is not None and partner != spec.partner) or not active.hits(emission):
            continue
        when, due = emission.occurred_at, emission.deliver_at
        delay = spec.delay * (0.8 + 0.4 * active.draw(emission.event_id, "delay"))
        _cascade(story, when, delay)
        active.record(
            story,
            at=when,
            reveal_at=due,  # from when it should have arrived, the acknowledgement is late
            emissions=[emission],
            detail={"type": emission.type, "partner": partner, "delayed_s": _seconds(delay)},
        )


def _inventory_drift(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, InventoryDrift)
    sources = [e for e in story.emissions if e.type in ("inventory.adjusted", "inventory.received")]
    for origin in sources:
        attributes = origin.event["attributes"]
        change = origin.event["keys"]["inventory_change"]
        if attributes["facility"] != spec.facility or (
            spec.skus and attributes["sku"] not in spec.skus
        ):
            continue
        if not active.hits(origin):
            continue
        drifted = [
            e
            for e in story.emissions
            if e.system in ("erp", "channel")
            and e.event["keys"].get("inventory_change") == change
            and e.event.get("status") != "error"
        ]
        for emission in drifted:
            emission.event["attributes"]["on_hand"] = attributes["on_hand"] + spec.delta
        active.record(
            story,
            at=origin.occurred_at,
            reveal_at=min((e.deliver_at for e in drifted), default=origin.deliver_at),
            emissions=drifted,
            detail={
                "facility": spec.facility,
                "sku": attributes["sku"],
                "wms_on_hand": attributes["on_hand"],
                "erp_on_hand": attributes["on_hand"] + spec.delta,
                "delta": spec.delta,
            },
        )


def _lost_message(active: _Active, story: Story) -> None:
    for emission in list(story.emissions):
        if active.hits(emission):
            story.emissions.remove(emission)
            detail = {"type": emission.type, "source": emission.event["source"]}
            # The event never arrives, so only the record can say where its effect shows
            # (a lost stock posting leaves that site's ERP position stale).
            if emission.event.get("facility"):
                detail["facility"] = emission.event["facility"]
            active.record(
                story,
                at=emission.occurred_at,
                reveal_at=emission.deliver_at,
                emissions=[emission],
                detail=detail,
            )


def _warehouse_outage(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, WarehouseOutage) and active.begin is not None and active.end is not None
    held = [
        e
        for e in story.emissions
        if e.system == "wms"
        and e.event.get("facility") == spec.facility
        and active.active_at(e.occurred_at)
    ]
    due = min((e.deliver_at for e in held), default=None)
    for emission in held:
        # Released in a burst when the interface is back, in the order they were held.
        emission.deliver_at = max(
            emission.deliver_at, active.end + (emission.occurred_at - active.begin) * 0.02
        )
    if due is not None:
        active.record(
            story,
            at=min(e.occurred_at for e in held),
            reveal_at=due,
            emissions=held,
            detail={"facility": spec.facility, "held_until": format_time(active.end)},
        )


def _out_of_order(active: _Active, story: Story) -> None:
    # Latest first, so an event moved behind its successor stays behind it even when that
    # successor is itself moved behind the one after.
    for emission in sorted(story.emissions, key=lambda e: e.occurred_at, reverse=True):
        if not active.hits(emission):
            continue
        later = [
            e
            for e in story.emissions
            if e.occurred_at > emission.occurred_at and set(e.journeys) & set(emission.journeys)
        ]
        if not later:
            continue
        successor = min(later, key=lambda e: e.occurred_at)
        lag = timedelta(seconds=1 + 89 * active.draw(emission.event_id, "lag"))
        due = emission.deliver_at
        emission.deliver_at = max(emission.deliver_at, successor.deliver_at + lag)
        active.record(
            story,
            at=emission.occurred_at,
            reveal_at=due,
            emissions=[emission],
            detail={"type": emission.type, "arrived_after": successor.event_id},
        )


def _duplicate_delivery(active: _Active, story: Story) -> None:
    for emission in list(story.emissions):
        if not active.hits(emission):
            continue
        again = emission.copy()
        again.deliver_at += timedelta(seconds=5 + 595 * active.draw(emission.event_id, "again"))
        story.emissions.append(again)
        active.record(
            story,
            at=emission.occurred_at,
            reveal_at=again.deliver_at,
            emissions=[emission],
            detail={"type": emission.type, "redelivered_at": format_time(again.deliver_at)},
        )


def _clock_skew(active: _Active, story: Story) -> None:
    spec = active.spec
    assert isinstance(spec, ClockSkew)
    skewed = [
        e
        for e in story.emissions
        if e.system == "wms"
        and e.event.get("facility") == spec.facility
        and active.active_at(e.occurred_at)
    ]
    for emission in skewed:
        emission.occurred_at += spec.offset
    if skewed:
        active.record(
            story,
            at=min(e.occurred_at for e in skewed) - spec.offset,
            reveal_at=min(e.deliver_at for e in skewed),
            emissions=skewed,
            detail={"facility": spec.facility, "offset_s": _seconds(spec.offset)},
        )


_HANDLERS: dict[str, Callable[[_Active, Story], None]] = {
    "erp_posting_error": _erp_posting_error,
    "dead_letter": _dead_letter,
    "queue_backlog": _queue_backlog,
    "slow_acknowledgement": _slow_acknowledgement,
    "inventory_drift": _inventory_drift,
    "lost_message": _lost_message,
    "warehouse_outage": _warehouse_outage,
    "out_of_order": _out_of_order,
    "duplicate_delivery": _duplicate_delivery,
    "clock_skew": _clock_skew,
}
