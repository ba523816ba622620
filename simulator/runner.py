"""Runs the simulation against a tower: backfill history as fast as the tower takes it, then
live at a speed factor, until stopped.

"Now" splits the run: everything the stream delivers up to now is history, posted in big
batches; after it, an item is posted when the wall clock reaches it (at speed 60, a simulated
hour passes in a wall minute). In live mode occurred_at follows the simulated clock, which is
the wall clock at speed 1.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

import httpx

from simulator.estate import Estate, default_estate
from simulator.faults import FaultInjector
from simulator.records import Emission, FaultRecord, format_time
from simulator.scenario import Scenario, load_scenario, shipped_scenario
from simulator.sinks import EventSink, GroundTruthWriter, HttpEventSink
from simulator.world import Item, World, stream
from tower.clock import Clock, utc_now

__all__ = [
    "RunOptions",
    "RunSummary",
    "SimulatorError",
    "SimulatorThread",
    "items",
    "plan_run",
    "run",
    "stop_on_interrupt",
    "wait_for_tower",
]

log = logging.getLogger(__name__)

FLUSH_IDLE_S = 0.5  # live mode: post what is due when the next item is this far away
REPORT_EVERY_S = 60.0  # live mode: how often to log how far the run has come
TICK_S = 0.1  # how often a waiting runner looks at its stop signal


class SimulatorError(Exception):
    """The run could not go on (the tower is unreachable, or refused a request)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """One run: what to simulate, how much history, how fast, and where the truth goes."""

    scenario: Scenario
    seed: int
    backfill: timedelta
    speed: float = 1.0
    live: bool = True
    live_for: timedelta | None = None  # simulated time to run live; forever when None
    now: datetime | None = None  # when backfill ends; the wall clock when None
    batch_size: int = 5000
    ground_truth: Path | None = None

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        *,
        seed: int | None = None,
        backfill_days: float | None = None,
        speed: float | None = None,
        live: bool = True,
        live_for: timedelta | None = None,
        now: datetime | None = None,
        ground_truth: Path | None = None,
    ) -> RunOptions:
        """The scenario's own settings, with whatever the caller overrides."""
        return cls(
            scenario=scenario,
            seed=scenario.seed if seed is None else seed,
            backfill=scenario.backfill if backfill_days is None else timedelta(days=backfill_days),
            speed=scenario.speed if speed is None else speed,
            live=live,
            live_for=live_for,
            now=now,
            ground_truth=ground_truth,
        )


@dataclass(slots=True)
class RunSummary:
    now: datetime
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    faults: int = 0
    backfill_events: int = 0
    backfill_seconds: float = 0.0
    last_at: datetime | None = None  # simulated time of the last item handled


def plan_run(
    *,
    scenario: Path | None,
    seed: int | None = None,
    backfill_days: float | None = None,
    speed: float | None = None,
    live: bool = True,
    ground_truth: Path | None = None,
) -> RunOptions:
    """Options from a scenario file (the shipped default when None) and the caller's overrides.

    A missing or invalid file raises ConfigFileError naming the file and the reason.
    """
    return RunOptions.from_scenario(
        load_scenario(scenario or shipped_scenario("default")),
        seed=seed,
        backfill_days=backfill_days,
        speed=speed,
        live=live,
        ground_truth=ground_truth,
    )


def items(*, options: RunOptions, now: datetime, estate: Estate | None = None) -> Iterator[Item]:
    """The run's deliveries in order: pure, so tests can read exactly what a run would send."""
    estate = estate or default_estate()
    world = World(seed=options.seed, volume=options.scenario.volume, estate=estate)
    injector = FaultInjector(options.scenario.faults, seed=options.seed, now=now, estate=estate)
    if not options.live:
        until: datetime | None = now
    elif options.live_for is not None:
        until = now + options.live_for
    else:
        until = None
    return stream(world=world, start=now - options.backfill, until=until, faults=injector)


def _wait(seconds: float, stop: Callable[[], bool]) -> bool:
    """Sleep up to `seconds`, waking early when asked to stop; True if asked."""
    deadline = time.monotonic() + seconds
    while not stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, TICK_S))
    return True


class _Batcher:
    """Collects due events and posts them; writes fault records as they come due."""

    def __init__(
        self, sink: EventSink, truth: GroundTruthWriter | None, summary: RunSummary, size: int
    ) -> None:
        self.sink, self.truth, self.summary, self.size = sink, truth, summary, size
        self.events: list[Emission] = []
        self.started = 0.0
        self.reported = time.monotonic()

    def add(self, item: Item) -> None:
        self.summary.last_at = item.when
        if isinstance(item, FaultRecord):
            self.summary.faults += 1
            if self.truth is not None:
                self.truth.write(item)
            return
        if not self.events:
            self.started = time.monotonic()
        self.events.append(item)
        if len(self.events) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.truth is not None:
            self.truth.flush()
        if not self.events:
            return
        result = self.sink.send(self.events)
        self.summary.sent += len(self.events)
        self.summary.accepted += result.accepted
        self.summary.duplicates += result.duplicates
        self.summary.rejected.extend(result.rejected)
        for event_id, reason in result.rejected[:5]:
            log.warning("tower rejected %s: %s", event_id, reason)
        self.events = []
        if time.monotonic() - self.reported > REPORT_EVERY_S:
            self.reported = time.monotonic()
            log.info(
                "simulated up to %s: %d events sent, %d faults injected so far",
                format_time(self.summary.last_at or self.summary.now),
                self.summary.sent,
                self.summary.faults,
            )


def run(
    *,
    options: RunOptions,
    sink: EventSink,
    stop: Callable[[], bool] = lambda: False,
    clock: Clock = utc_now,
) -> RunSummary:
    """Backfill, then (if live) pace the rest by the wall clock until stopped or done."""
    now = (options.now or clock()).replace(microsecond=0)
    summary = RunSummary(now=now)
    truth = None
    if options.ground_truth is not None:
        truth = GroundTruthWriter(options.ground_truth, header=_header(options, now))
    batcher = _Batcher(sink, truth, summary, options.batch_size)
    began = time.monotonic()
    live_from: float | None = None
    try:
        for item in items(options=options, now=now):
            if stop():
                break
            if item.when > now:
                if live_from is None:
                    batcher.flush()
                    live_from = _backfilled(summary, began)
                due = live_from + (item.when - now).total_seconds() / options.speed
                if _pace(due, batcher, stop):
                    break
            batcher.add(item)
        batcher.flush()
        if live_from is None:
            _backfilled(summary, began)
    except httpx.HTTPError as exc:
        if not stop():
            raise SimulatorError(f"could not send events: {exc}") from exc
        log.info(
            "tower went away while stopping; %d events were still pending", len(batcher.events)
        )
    finally:
        if truth is not None:
            truth.close(ended_at=summary.last_at)
    log.info(
        "simulator stopped: %d events sent, %d accepted, %d duplicates, %d rejected, %d faults",
        summary.sent,
        summary.accepted,
        summary.duplicates,
        len(summary.rejected),
        summary.faults,
    )
    return summary


def _backfilled(summary: RunSummary, began: float) -> float:
    summary.backfill_events = summary.sent
    summary.backfill_seconds = time.monotonic() - began
    log.info(
        "backfilled %d events up to %s in %.1f s",
        summary.sent,
        format_time(summary.now),
        summary.backfill_seconds,
    )
    return time.monotonic()


def _pace(due: float, batcher: _Batcher, stop: Callable[[], bool]) -> bool:
    """Wait for the wall clock to reach `due`, posting what is due meanwhile; True to stop."""
    while (left := due - time.monotonic()) > 0:
        idle = time.monotonic() - batcher.started
        if batcher.events and (left > FLUSH_IDLE_S or idle > FLUSH_IDLE_S):
            batcher.flush()
        if _wait(min(left, TICK_S), stop):
            return True
    return stop()


def _header(options: RunOptions, now: datetime) -> dict[str, object]:
    return {
        "scenario": options.scenario.name,
        "seed": options.seed,
        "now": format_time(now),
        "history_from": format_time(now - options.backfill),
        "live": options.live,
        "speed": options.speed,
        "faults": [f.model_dump(mode="json") for f in options.scenario.faults],
    }


def wait_for_tower(url: str, *, stop: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Wait until the tower answers its health check; False if stopped or timed out first."""
    deadline = time.monotonic() + timeout
    health = url.rstrip("/") + "/api/v1/health"
    while time.monotonic() < deadline and not stop():
        try:
            if httpx.get(health, timeout=2.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        _wait(0.2, stop)
    return False


class SimulatorThread(threading.Thread):
    """The simulator beside a server in the same process (`tower demo`).

    It stops when `stop()` is called or when `should_stop` turns true (e.g. the server's
    shutdown flag), so Ctrl-C stops posting before the server closes the database.
    """

    def __init__(
        self, *, url: str, options: RunOptions, should_stop: Callable[[], bool] = lambda: False
    ) -> None:
        super().__init__(name="simulator", daemon=True)
        self.url = url
        self.options = options
        self.summary: RunSummary | None = None
        self.error: Exception | None = None
        self._should_stop = should_stop
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def stopping(self) -> bool:
        return self._stopped.is_set() or self._should_stop()

    def run(self) -> None:
        try:
            if not wait_for_tower(self.url, stop=self.stopping):
                if not self.stopping():
                    log.error(
                        "the tower at %s never became healthy; simulator not started", self.url
                    )
                return
            with HttpEventSink(self.url) as sink:
                self.summary = run(options=self.options, sink=sink, stop=self.stopping)
        except Exception as exc:  # the thread's last word: log it, keep it for the caller
            log.exception("simulator failed")
            self.error = exc


@contextlib.contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """Turn the first Ctrl-C into a stop request (set on the yielded event); a second one
    interrupts at once."""
    stopped = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handle)
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGINT, previous)
