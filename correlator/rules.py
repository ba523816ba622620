"""Pure rules: a journey's stage, history, hop latencies and anomalies from its events.

No I/O and no clock: `build_journey` takes the events and returns the state; the time-dependent
part (stalled, at risk, next step missing) is derived from `next_due_at` and `at_risk_at` at
read time, so a journey need not be rebuilt as time passes.

This is the rules' reference statement, one journey at a time. The correlator job applies the
same rules to every touched journey at once in SQL (sql/rebuild_journeys.sql, decision 0010);
tests/correlator/test_rebuild_parity.py holds the two to the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from correlator.models import JourneyModel
from tower.durations import format_duration

__all__ = ["Anomaly", "JourneyEvent", "JourneyState", "StageVisit", "build_journey", "status_at"]

State = Literal["open", "done", "failed"]
Status = Literal["on_track", "at_risk", "stalled", "failed", "done"]


@dataclass(slots=True)  # not frozen: built once per event per rebuild, and frozen costs 2.5x
class JourneyEvent:
    """What the rules need of one event. `via` is the included journey it came from, if any.

    Read-only by convention: the rules never change an event they are given.
    """

    seq: int
    event_id: str
    occurred_at: datetime
    source: str
    system: str
    type: str
    object_type: str
    status: str = "ok"
    error: str | None = None
    facility: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    via: int | None = None


@dataclass(frozen=True, slots=True)
class StageVisit:
    """The first entry into a stage, and the hop that led there."""

    stage: str
    entered_at: datetime
    system: str
    source: str
    seq: int
    from_stage: str | None
    from_system: str | None
    latency_seconds: float | None


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # duplicate | out_of_order | skipped_stage | regression | error
    at: datetime
    detail: str
    seq: int | None = None


@dataclass(slots=True)
class JourneyState:
    stage: str | None
    stage_entered_at: datetime | None
    started_at: datetime
    last_event_at: datetime
    state: State
    next_stage: str | None
    next_due_at: datetime | None
    at_risk_at: datetime | None
    error_open: bool
    facility: str | None
    customer: str | None
    channel: str | None
    value: float | None
    currency: str | None
    systems: list[str]
    event_count: int
    history: list[StageVisit]
    anomalies: list[Anomaly]


def build_journey(model: JourneyModel | None, events: list[JourneyEvent]) -> JourneyState:
    """The state of one journey from all its events, in any arrival order."""
    if not events:
        raise ValueError("a journey has at least one event")
    by_time = sorted(events, key=lambda e: (e.occurred_at, e.seq))
    anomalies = _arrival_anomalies(events) + _duplicates(by_time) + _errors(by_time)
    stage: str | None = None
    entered: datetime | None = None
    history: list[StageVisit] = []
    state: State = "open"
    if model is not None:
        stage, entered, history, state, walk = _walk_stages(model, by_time)
        anomalies += walk + _skipped(model, history)
    anomalies.sort(key=lambda a: (a.at, a.kind))
    next_stage, due, risk = _expectation(model, stage, entered, state)
    own = [e for e in by_time if e.via is None] or by_time
    latest: dict[str, Any] = {}
    for event in reversed(own):  # the newest value of each attribute wins
        for name, value in event.attributes.items():
            if value and name not in latest:
                latest[name] = value
    return JourneyState(
        stage=stage,
        stage_entered_at=entered,
        started_at=by_time[0].occurred_at,
        last_event_at=by_time[-1].occurred_at,
        state=state,
        next_stage=next_stage,
        next_due_at=due,
        at_risk_at=risk,
        error_open=own[-1].status == "error",
        facility=_first(e.facility for e in own) or _first(e.facility for e in by_time),
        customer=latest.get("customer"),
        channel=latest.get("channel"),
        value=_number(latest.get("value")),
        currency=latest.get("currency"),
        systems=list(dict.fromkeys(e.system for e in by_time)),
        event_count=len(events),
        history=history,
        anomalies=anomalies,
    )


def status_at(
    *,
    state: str,
    next_due_at: datetime | None,
    at_risk_at: datetime | None,
    error_open: bool,
    now: datetime,
) -> Status:
    """A journey's status at `now` (the same rule the SQL in sql/journey_status.sql applies)."""
    if state == "done":
        return "done"
    if state == "failed":
        return "failed"
    if next_due_at is not None and now >= next_due_at:
        return "stalled"
    if error_open or (at_risk_at is not None and now >= at_risk_at):
        return "at_risk"
    return "on_track"


def _walk_stages(
    model: JourneyModel, by_time: list[JourneyEvent]
) -> tuple[str | None, datetime | None, list[StageVisit], State, list[Anomaly]]:
    stage: str | None = None
    entered: datetime | None = None
    best = -1
    history: list[StageVisit] = []
    reached: set[str] = set()
    anomalies: list[Anomaly] = []
    state: State = "open"
    for event in by_time:
        target = model.stage_of(event.type)
        if target is None or event.status == "error":
            continue
        rank = model.rank(target.name)
        if 0 <= rank < best and target.name not in reached:
            anomalies.append(
                Anomaly(
                    "regression",
                    event.occurred_at,
                    f"{event.type} moved {stage} back to {target.name}",
                    event.seq,
                )
            )
            continue
        if 0 <= rank < best:
            continue  # a repeat of a stage already passed (e.g. a second shipment): no move
        if target.name not in reached:
            previous = history[-1] if history else None
            history.append(
                StageVisit(
                    stage=target.name,
                    entered_at=event.occurred_at,
                    system=event.system,
                    source=event.source,
                    seq=event.seq,
                    from_stage=previous.stage if previous else None,
                    from_system=previous.system if previous else None,
                    latency_seconds=(event.occurred_at - previous.entered_at).total_seconds()
                    if previous
                    else None,
                )
            )
            reached.add(target.name)
        if target.name != stage:
            stage, entered = target.name, event.occurred_at
        best = max(best, rank)
    current = model.stage(stage) if stage else None
    done_ranks = [model.rank(d) for d in model.done_at if model.rank(d) >= 0]
    if current is not None and current.failed:
        state = "failed"
    elif current is not None and (current.final or current.name in model.done_at):
        state = "done"
    elif done_ranks and best >= min(done_ranks) and model.rank(stage or "") >= 0:
        state = "done"
    return stage, entered, history, state, anomalies


def _skipped(model: JourneyModel, history: list[StageVisit]) -> list[Anomaly]:
    reached = {v.stage: v for v in history}
    ranks = [model.rank(v.stage) for v in history if model.rank(v.stage) >= 0]
    if not ranks:
        return []
    found = []
    for rank in range(min(ranks) + 1, max(ranks)):
        stage = model.stages[rank]
        if stage.optional or stage.name in reached:
            continue
        after = next(v for v in history if model.rank(v.stage) > rank)
        found.append(
            Anomaly(
                "skipped_stage",
                after.entered_at,
                f"reached {after.stage} without {stage.name}",
                after.seq,
            )
        )
    return found


def _arrival_anomalies(events: list[JourneyEvent]) -> list[Anomaly]:
    """Events that arrived (by ingest sequence) after an event that happened later."""
    found = []
    latest: JourneyEvent | None = None
    for event in sorted(events, key=lambda e: e.seq):
        if latest is not None and event.occurred_at < latest.occurred_at:
            found.append(
                Anomaly(
                    "out_of_order",
                    event.occurred_at,
                    f"{event.type} arrived after {latest.type}, which happened "
                    f"{format_duration(latest.occurred_at - event.occurred_at)} later",
                    event.seq,
                )
            )
        if latest is None or event.occurred_at > latest.occurred_at:
            latest = event
    return found


def _duplicates(by_time: list[JourneyEvent]) -> list[Anomaly]:
    """The same step reported again by the same source for the same object."""
    seen: dict[tuple[str, str, int | None], JourneyEvent] = {}
    found = []
    for event in by_time:
        key = (event.type, event.source, event.via)
        first = seen.get(key)
        if first is None:
            seen[key] = event
        elif event.status == first.status:
            found.append(
                Anomaly(
                    "duplicate",
                    event.occurred_at,
                    f"{event.type} from {event.source} again "
                    f"(first at {first.occurred_at:%Y-%m-%d %H:%M:%S}Z)",
                    event.seq,
                )
            )
    return found


def _errors(by_time: list[JourneyEvent]) -> list[Anomaly]:
    return [
        Anomaly("error", e.occurred_at, f"{e.type} from {e.source}: {e.error or 'error'}", e.seq)
        for e in by_time
        if e.status == "error"
    ]


def _expectation(
    model: JourneyModel | None, stage: str | None, entered: datetime | None, state: State
) -> tuple[str | None, datetime | None, datetime | None]:
    if model is None or stage is None or entered is None or state != "open":
        return None, None, None
    current = model.stage(stage)
    if current is None or current.next_within is None:
        return None, None, None
    rank = model.rank(stage)
    following = model.stages[rank + 1].name if 0 <= rank < len(model.stages) - 1 else None
    window: timedelta = current.next_within
    return following, entered + window, entered + window * model.at_risk_after


def _first(values: Any) -> Any:
    return next((v for v in values if v), None)


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
