"""Detection benchmark: the demo estate's faults through the real tower, against the ground truth.

A real tower (uvicorn on 127.0.0.1, a DuckDB file, the shipped SLA definitions) is fed by the
simulator over HTTP, a step (5 simulated minutes) at a time: the step's events and queue
samples are posted, the correlator catches up, and one SLA/alert cycle runs at the step's end
on the tower's clock. Every alert that fires is kept with its labels and the journeys it names;
every fault the simulator injected is kept as the simulator wrote it (simulator.FaultRecord).

- Recall: of the faults that put a service level at stake (`_expectation` below says, per
  fault kind, which alert must fire, for which facility, queue or partner, and by when), the
  share whose alert was firing at a cycle between the fault and that deadline. Faults whose
  deadline falls after the run's end are "not yet due" and left out; faults no service level
  covers (a duplicate the tower absorbs, an event a few seconds out of order, a clock a few
  minutes ahead, a lost confirmation of work that did happen, a recovered posting retried
  within the SLA's allowance) are "tolerated" and left out too. A lost ERP stock posting is
  at stake (the ERP position the tower holds goes stale: drift) unless the tower never had an
  ERP position for that SKU, when nothing can disagree.
- False alerts: the share of alert episodes (an alert from pending to firing) that no fault
  explains. A journey alert (stage deadline, stalled, in error) is explained when every journey
  it names was hit by a fault; any other alert when a fault with the same facility, queue,
  source or partner happened before it fired and its effects (a held interface, a delayed step,
  a replayed message) had ended less than the SLA's own window ago; an SLO burn alert when a
  fault that makes its SLI's bad events (errors; slow hops of its journey kind) happened within
  the burn window that fired. Duplicates and reordering explain nothing: the tower is meant
  to absorb them.

`python -m benchmarks --only detection` runs the demo scenario (2 days of history and the first
hour live); goals: recall >= 95 %, false alerts <= 2 %.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import orjson
import uvicorn
from rich.table import Table

from alerts.jobs import run_once as alert_cycle
from alerts.models import AlertingConfig
from correlator.jobs import run_until_caught_up
from correlator.models import ModelSet, load_models
from simulator.records import Emission, FaultRecord, QueueSample
from simulator.runner import RunOptions, items
from simulator.scenario import Scenario, load_scenario, shipped_scenario
from simulator.sinks import HttpEventSink, HttpQueueSink
from sla.jobs import stages_of
from sla.models import (
    DeadLetterSla,
    FacilityOutageSla,
    InventoryDriftSla,
    JourneyErrorsSla,
    QueueDepthSla,
    SlaFile,
    Slo,
    StageDeadlineSla,
    load_slas,
)
from tower.app import create_app
from tower.db import Store
from tower.durations import parse_duration
from tower.settings import Settings

__all__ = ["Detection", "Setup", "measure", "run", "table"]

GOALS = {"recall_at_least": 0.95, "false_alerts_at_most": 0.02}
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday noon: history covers a weekend
GRACE = timedelta(minutes=30)  # evaluation step, `for`, and queue samples every 5 minutes
TOLERATED = ("duplicate_delivery", "out_of_order")  # the tower absorbs these: explain nothing
JOURNEY_KINDS = ("stage_deadline", "stalled_in_stage", "journey_errors")
SCOPES = ("facility", "queue", "source", "partner")


@dataclass(frozen=True, slots=True)
class Setup:
    scenario: Scenario
    backfill: timedelta
    live_for: timedelta = timedelta(0)
    now: datetime = NOW
    step: timedelta = timedelta(minutes=5)
    seed: int | None = None


class SimClock:
    """The tower's clock: the simulated time of the step being evaluated."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(slots=True)
class Episode:
    """One alert from pending to firing: what it said when it fired."""

    alertname: str
    kind: str
    labels: dict[str, str]
    fired_at: datetime
    sample: list[str]
    explained: bool = False


@dataclass(slots=True)
class Observed:
    """What a run saw: the faults, the alerts firing at each cycle, facts about the estate."""

    faults: list[FaultRecord] = field(default_factory=list)
    firing: dict[str, list[tuple[datetime, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    episodes: dict[tuple[str, datetime], Episode] = field(default_factory=dict)
    facility_of: dict[str, str] = field(default_factory=dict)  # event id -> facility
    stock_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # change -> sku, site
    erp_reported: set[tuple[str, str]] = field(default_factory=set)  # ERP positions seen
    unseen: set[int] = field(default_factory=set)  # faults the tower had no way to see
    cycles: int = 0
    events: int = 0
    end: datetime = NOW


@dataclass(slots=True)
class KindFigures:
    faults: int = 0
    at_stake: int = 0
    detected: int = 0
    not_yet_due: int = 0
    missed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Detection:
    scenario: str
    events: int
    cycles: int
    seconds: float
    kinds: dict[str, KindFigures]
    episodes: list[Episode]

    @property
    def at_stake(self) -> int:
        return sum(k.at_stake for k in self.kinds.values())

    @property
    def recall(self) -> float | None:
        detected = sum(k.detected for k in self.kinds.values())
        return detected / self.at_stake if self.at_stake else None

    @property
    def false_alerts(self) -> list[Episode]:
        return [e for e in self.episodes if not e.explained]

    @property
    def false_share(self) -> float | None:
        return len(self.false_alerts) / len(self.episodes) if self.episodes else None

    def figures(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "events": self.events,
            "cycles": self.cycles,
            "seconds": round(self.seconds, 1),
            "at_stake": self.at_stake,
            "recall": self.recall,
            "alerts": len(self.episodes),
            "false_alerts": len(self.false_alerts),
            "false_share": self.false_share,
            "goals": GOALS,
            "kinds": {
                kind: {
                    "faults": k.faults,
                    "at_stake": k.at_stake,
                    "detected": k.detected,
                    "not_yet_due": k.not_yet_due,
                    "missed": k.missed[:10],
                }
                for kind, k in sorted(self.kinds.items())
            },
            "false_alert_list": [
                {"alertname": e.alertname, "labels": e.labels, "fired_at": e.fired_at.isoformat()}
                for e in self.false_alerts
            ],
        }


def run(setup: Setup | None = None) -> Detection:
    """The demo scenario (or `setup`'s) through a tower of its own in a temporary directory."""
    if setup is None:
        setup = Setup(
            scenario=load_scenario(shipped_scenario("default")),
            backfill=timedelta(days=2),
            live_for=timedelta(hours=1),
        )
    with TemporaryDirectory(prefix="tower-detection-") as work:
        return measure(setup, Path(work))


def measure(setup: Setup, work: Path, *, definitions: SlaFile | None = None) -> Detection:
    """Run `setup` through a real tower on a DuckDB file in `work` and judge what it alerted."""
    models = load_models()
    stages = stages_of(models)
    if definitions is None:
        # The tower's checks on itself judge the process, not the estate, and here the harness
        # runs the jobs on a simulated clock: left out.
        shipped = load_slas(stages=stages)
        definitions = shipped.model_copy(
            update={"slas": [s for s in shipped.slas if s.kind != "tower"]}
        )
    clock = SimClock(setup.now - setup.backfill)
    settings = Settings(
        db_path=work / "tower.duckdb",
        correlate_every=timedelta(hours=1),  # the benchmark drives the jobs itself
        sla_every=timedelta(hours=1),
    )
    began = time.monotonic()
    with _serve(settings, clock) as (url, store):
        observed = _drive(
            setup, url=url, store=store, clock=clock, models=models, definitions=definitions
        )
        episodes = list(observed.episodes.values())
        _explain(episodes, observed, store=store, definitions=definitions)
        kinds = _recall(observed, setup=setup, definitions=definitions)
    return Detection(
        scenario=setup.scenario.name,
        events=observed.events,
        cycles=observed.cycles,
        seconds=time.monotonic() - began,
        kinds=kinds,
        episodes=sorted(episodes, key=lambda e: e.fired_at),
    )


@contextmanager
def _serve(settings: Settings, clock: SimClock) -> Iterator[tuple[str, Store]]:
    """`create_app` under uvicorn on a free 127.0.0.1 port, in a thread of this process."""
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the tower did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app.state.store
    finally:
        server.should_exit = True
        thread.join(30)


def _drive(
    setup: Setup,
    *,
    url: str,
    store: Store,
    clock: SimClock,
    models: ModelSet,
    definitions: SlaFile,
) -> Observed:
    options = RunOptions.from_scenario(
        setup.scenario,
        seed=setup.seed,
        live=setup.live_for > timedelta(0),
        live_for=setup.live_for,
        now=setup.now,
    )
    observed = Observed()
    config = AlertingConfig()
    stages = stages_of(models)
    events: list[Emission] = []
    samples: list[QueueSample] = []
    with HttpEventSink(url) as sink, HttpQueueSink(url) as queue_sink:

        def cycle(at: datetime) -> None:
            if events:
                result = sink.send(events)
                if result.rejected:
                    raise RuntimeError(f"the tower rejected events: {result.rejected[:3]}")
                observed.events += len(events)
            if samples:
                queue_sink.send_samples(samples)
            events.clear()
            samples.clear()
            run_until_caught_up(store=store, models=models)
            clock.now = at
            alert_cycle(store=store, definitions=definitions, stages=stages, config=config, now=at)
            _observe(observed, store=store, at=at)

        at = setup.now - setup.backfill + setup.step
        for item in items(options=options, now=setup.now, telemetry=False, queues=True):
            while item.when > at:
                cycle(at)
                at += setup.step
            if isinstance(item, FaultRecord):
                if _unseeable(item, observed):
                    observed.unseen.add(len(observed.faults))
                observed.faults.append(item)
            elif isinstance(item, QueueSample):
                samples.append(item)
            elif isinstance(item, Emission):
                events.append(item)
                _note(observed, item)
        end = setup.now + setup.live_for
        while at <= end:
            cycle(at)
            at += setup.step
        observed.end = at - setup.step
    return observed


def _note(observed: Observed, emission: Emission) -> None:
    """Facts the judging needs that the fault records leave out: facilities, stock changes,
    which stock positions the ERP has reported."""
    facility = emission.event.get("facility")
    if facility:
        observed.facility_of[emission.event_id] = str(facility)
    change = emission.event.get("keys", {}).get("inventory_change")
    sku = emission.event.get("attributes", {}).get("sku")
    if change and sku and facility:
        observed.stock_of[change] = (str(sku), str(facility))
        if emission.system == "erp" and emission.event.get("status") != "error":
            observed.erp_reported.add((str(sku), str(facility)))


def _unseeable(record: FaultRecord, observed: Observed) -> bool:
    """A lost ERP stock posting for a SKU whose ERP position the tower never had: nothing
    disagrees, so nothing can show it."""
    if record.fault != "lost_message" or record.detail.get("type") != "inventory.posted":
        return False
    change = record.event_ids[0].rsplit(":", 1)[-1]
    stock = observed.stock_of.get(change)
    return stock is None or stock not in observed.erp_reported


def _observe(observed: Observed, *, store: Store, at: datetime) -> None:
    observed.cycles += 1
    rows = store.query(
        "SELECT fingerprint, alertname, labels, annotations, starts_at FROM alerts"
        " WHERE state = 'firing'",
        doing="reading firing alerts",
    )
    for row in rows:
        labels: dict[str, str] = orjson.loads(row["labels"])
        observed.firing[row["alertname"]].append((at, labels))
        key = (row["fingerprint"], row["starts_at"])
        if key not in observed.episodes:
            sample = orjson.loads(row["annotations"]).get("sample", "")
            observed.episodes[key] = Episode(
                alertname=row["alertname"],
                kind=labels.get("sla_kind", ""),
                labels=labels,
                fired_at=row["starts_at"],
                sample=[s for s in sample.split(", ") if s],
            )


Alternative = tuple[str, dict[str, str]]  # an alertname and the labels it must carry


@dataclass(frozen=True, slots=True)
class Expectation:
    """Which alert must fire for a fault, between `start` and `deadline`."""

    alternatives: list[Alternative]
    start: datetime
    deadline: datetime


def _names(definitions: SlaFile, kind: type) -> list[str]:
    return [s.name for s in definitions.slas if isinstance(s, kind)]


def _expectation(
    record: FaultRecord, observed: Observed, *, setup: Setup, definitions: SlaFile
) -> Expectation | None:
    """The alert a fault must raise, or None when no service level is at stake."""
    detail, at = record.detail, record.at
    if record.fault == "warehouse_outage":
        outages = [s for s in definitions.slas if isinstance(s, FacilityOutageSla)]
        limit = min((s.silent_for for s in outages), default=timedelta(minutes=10))
        spec = next((f for f in setup.scenario.faults if f.label == record.name), None)
        duration = getattr(spec, "duration", None)
        if duration is not None and duration <= limit:
            return None
        scope = {"facility": str(detail["facility"])}
        return Expectation(
            [(n, scope) for n in _names(definitions, FacilityOutageSla)],
            at,
            record.reveal_at + GRACE,
        )
    if record.fault == "queue_backlog":
        queues = [s for s in definitions.slas if isinstance(s, QueueDepthSla)]
        ages = [s.max_oldest_age for s in queues if s.max_oldest_age is not None]
        if float(detail["delayed_s"]) <= min(ages, default=timedelta(minutes=10)).total_seconds():
            return None
        scope = {"queue": str(detail["queue"])}
        return Expectation([(s.name, scope) for s in queues], at, record.reveal_at + GRACE)
    if record.fault == "dead_letter":
        dlq = {"queue": f"{detail['queue']}.dlq"}
        options = [(n, dlq) for n in _names(definitions, DeadLetterSla)]
        options += [(n, {}) for n in _names(definitions, JourneyErrorsSla)]
        return Expectation(options, at, record.reveal_at + GRACE)
    if record.fault == "erp_posting_error":
        errors = [s for s in definitions.slas if isinstance(s, JourneyErrorsSla)]
        limit = min((s.unresolved_for for s in errors), default=timedelta(minutes=15))
        retried = detail.get("retried_at")
        if retried is not None and datetime.fromisoformat(retried) - at <= limit:
            return None
        return Expectation([(s.name, {}) for s in errors], at, record.reveal_at + limit + GRACE)
    if record.fault == "slow_acknowledgement":
        acks = [
            s
            for s in definitions.slas
            if isinstance(s, StageDeadlineSla)
            and s.journey == "purchase_order"
            and s.to_stage == "acknowledged"
        ]
        within = min((s.within for s in acks), default=timedelta(hours=4))
        if float(detail["delayed_s"]) <= within.total_seconds():
            return None
        scope = {"partner": str(detail["partner"])}
        return Expectation([(s.name, scope) for s in acks], at, at + within + GRACE)
    if record.fault == "inventory_drift" or (
        record.fault == "lost_message" and detail.get("type") == "inventory.posted"
    ):
        drifts = [s for s in definitions.slas if isinstance(s, InventoryDriftSla)]
        age = min((s.max_age for s in drifts), default=timedelta(minutes=30))
        # A lost event never reached the tower: its facility is its stock change's.
        change = record.event_ids[0].rsplit(":", 1)[-1]
        facility = detail.get("facility") or observed.stock_of.get(change, ("", ""))[1]
        scope = {"facility": str(facility)}
        return Expectation([(s.name, scope) for s in drifts], at, record.reveal_at + age + GRACE)
    # A lost shipment confirmation: the goods did ship (the ground truth says the work
    # happened) and the invoice, which the order journey includes, arrives in time; nothing
    # is late. If the tower pages about it, the lost message explains that alert.
    return None  # lost steps, duplicates, reordering, skewed clocks: nothing is late


def _recall(observed: Observed, *, setup: Setup, definitions: SlaFile) -> dict[str, KindFigures]:
    kinds: dict[str, KindFigures] = defaultdict(KindFigures)
    for index, record in enumerate(observed.faults):
        figures = kinds[record.fault]
        figures.faults += 1
        expected = _expectation(record, observed, setup=setup, definitions=definitions)
        if expected is None or index in observed.unseen:
            continue
        if expected.deadline > observed.end:
            figures.not_yet_due += 1
            continue
        figures.at_stake += 1
        if any(
            expected.start <= t <= expected.deadline
            and all(labels.get(k) == v for k, v in scope.items())
            for name, scope in expected.alternatives
            for t, labels in observed.firing.get(name, [])
        ):
            figures.detected += 1
        else:
            figures.missed.append(f"{record.name} at {record.at:%Y-%m-%d %H:%M} {record.detail}")
    return dict(kinds)


def _end(record: FaultRecord) -> datetime:
    """When a fault's effect ended: the interface back, the step or the replay done."""
    ends = [record.at, record.reveal_at]
    for name in ("held_until", "retried_at", "replayed_at"):
        if name in record.detail:
            ends.append(datetime.fromisoformat(str(record.detail[name])))
    if "delayed_s" in record.detail:
        ends.append(record.at + timedelta(seconds=float(record.detail["delayed_s"])))
    return max(ends)


def _scope(record: FaultRecord, observed: Observed) -> dict[str, set[str]]:
    detail = record.detail
    scope: dict[str, set[str]] = {
        "facility": {
            observed.facility_of[e] for e in record.event_ids if e in observed.facility_of
        },
        "source": {e.split(":", 1)[0] for e in record.event_ids},
        "queue": set(),
        "partner": set(),
    }
    if "facility" in detail:
        scope["facility"].add(str(detail["facility"]))
    if "queue" in detail:
        scope["queue"] |= {str(detail["queue"]), f"{detail['queue']}.dlq"}
    if detail.get("partner"):
        scope["partner"].add(str(detail["partner"]))
    return scope


def _horizon(definitions: SlaFile, alertname: str) -> timedelta:
    """How long after a fault's effect ends its alert may still (rightly) start firing."""
    found: Any = definitions.get(alertname)
    if found is None:
        return timedelta(hours=1)
    span = timedelta(0)
    for name in ("window", "max_age", "baseline", "keep_firing_for", "for_"):
        value = getattr(found, name, None)
        if isinstance(value, timedelta):
            span += value
    return span + timedelta(hours=1)


def _explain(
    episodes: list[Episode], observed: Observed, *, store: Store, definitions: SlaFile
) -> None:
    """Mark each alert episode that some injected fault explains."""
    causes = [r for r in observed.faults if r.fault not in TOLERATED]
    refs = {f"{ns}:{value}" for r in causes for _, ns, value in r.journeys}
    samples = {s for e in episodes if e.kind in JOURNEY_KINDS for s in e.sample}
    ids = _journey_ids(store, refs | samples)
    faulted = {ids[r] for r in refs if r in ids}
    scopes = [(r, _scope(r, observed), _end(r)) for r in causes]
    for episode in episodes:
        if episode.kind in JOURNEY_KINDS and episode.sample:
            episode.explained = all(ids.get(s) in faulted for s in episode.sample)
            continue
        slo = definitions.get(episode.alertname)
        if isinstance(slo, Slo):
            # A burn alert: a fault that spoilt this SLI, within the window that fired.
            long = parse_duration(episode.labels.get("burn_window", "3d/6h").split("/")[0])
            episode.explained = any(
                _spoils(record, slo) and record.at <= episode.fired_at <= end + long
                for record, _, end in scopes
            )
            continue
        horizon = _horizon(definitions, episode.alertname)
        wanted = {k: episode.labels[k] for k in SCOPES if k in episode.labels}
        episode.explained = any(
            record.at - timedelta(hours=1) <= episode.fired_at <= end + horizon
            and all(v in scope[k] for k, v in wanted.items())
            for record, scope, end in scopes
        )


def _spoils(record: FaultRecord, slo: Slo) -> bool:
    """Whether a fault makes bad events for this SLO's SLI: errors, or slow hops of its kind."""
    if slo.sli.kind == "events_ok":
        return record.fault in ("erp_posting_error", "dead_letter")
    return any(ref[0] == slo.sli.journey for ref in record.journeys)


def _journey_ids(store: Store, labels: set[str]) -> dict[str, int]:
    """`namespace:value` -> the tower's journey of that key."""
    rows = store.query(
        "WITH wanted AS (SELECT unnest($keys::VARCHAR[]) AS k)"
        " SELECT w.k, min(i.journey_id) AS journey_id FROM wanted AS w"
        " JOIN identity AS i ON i.namespace || ':' || i.value = w.k GROUP BY w.k",
        {"keys": sorted(labels)},
        doing="finding the journeys of fault records",
    )
    return {r["k"]: int(r["journey_id"]) for r in rows}


def _ratio(value: float | None, goal: float, *, at_most: bool) -> str:
    if value is None:
        return "n/a"
    if at_most:
        return "met" if value <= goal else f"{value / goal:.2f}x the ceiling"
    return f"{value / goal:.3f}"


def table(result: Detection) -> Table:
    """Per fault kind: faults, at stake, detected, recall; then the totals against the goals."""
    out = Table(
        title=f"Detection: scenario {result.scenario}, {result.events} events, "
        f"{result.cycles} cycles, {result.seconds:.0f} s"
    )
    for name in ("fault kind", "faults", "at stake", "detected", "recall", "not yet due"):
        out.add_column(name, justify="left" if name == "fault kind" else "right")
    for kind, k in sorted(result.kinds.items()):
        share = f"{k.detected / k.at_stake:.1%}" if k.at_stake else "tolerated"
        out.add_row(
            kind, str(k.faults), str(k.at_stake), str(k.detected), share, str(k.not_yet_due)
        )
    recall = result.recall
    out.add_row(
        "all",
        str(sum(k.faults for k in result.kinds.values())),
        str(result.at_stake),
        str(sum(k.detected for k in result.kinds.values())),
        "n/a" if recall is None else f"{recall:.1%}",
        str(sum(k.not_yet_due for k in result.kinds.values())),
    )
    false_share = result.false_share
    out.caption = (
        f"recall {'n/a' if recall is None else f'{recall:.1%}'} (goal >= 95 %, ratio "
        f"{_ratio(recall, GOALS['recall_at_least'], at_most=False)}); false alerts "
        f"{len(result.false_alerts)} of {len(result.episodes)} = "
        f"{'n/a' if false_share is None else f'{false_share:.1%}'} (goal <= 2 %, "
        f"{_ratio(false_share, GOALS['false_alerts_at_most'], at_most=True)})"
    )
    return out


def alert_counts(result: Detection) -> Counter[str]:
    """Alert episodes per alertname (explained or not), for the report."""
    return Counter(e.alertname for e in result.episodes)
