"""Runs the simulation against a tower: backfill history as fast as the tower takes it, then
live at a speed factor, until stopped.

"Now" splits the run: everything the stream delivers up to now is history, posted in big
batches; after it, an item is posted when the wall clock reaches it (at speed 60, a simulated
hour passes in a wall minute). In live mode occurred_at follows the simulated clock, which is
the wall clock at speed 1.

Events, spans and log lines go to different endpoints, yet the tower numbers everything it
stores in one sequence, and a journey whose events arrive in another order than they happened
shows an out_of_order anomaly. So with telemetry a window of deliveries is sent in rounds:
within a round the events, the spans (one export carries every service's) and each source's log
lines post once, in a fixed order, and a delivery that becomes a journey's event after one of
its own story on a later channel waits for the next round. Stories never share a journey, so
only the order within a story matters, and a window takes a few dozen requests instead of one
per switch between channels. Queue samples join no journey: they go in the first round, last.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

import httpx

from simulator.estate import Estate, default_estate
from simulator.faults import FaultInjector
from simulator.queues import QueueSampler
from simulator.records import Emission, FaultRecord, LogLine, QueueSample, TraceRecord, format_time
from simulator.scenario import Scenario, load_scenario, shipped_scenario
from simulator.sinks import (
    EventSink,
    GroundTruthWriter,
    HttpEventSink,
    HttpQueueSink,
    HttpTelemetrySink,
    QueueSink,
    TelemetryError,
    TelemetrySink,
)
from simulator.telemetry import TelemetryPlanner
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
# With spans and log lines, a backfill is sent in windows of this many events (in requests of
# batch_size): every window costs as many rounds as its busiest story switches channels, and
# a story's switches hardly grow with the window, so wide windows take far fewer requests.
TELEMETRY_WINDOW = 50_000
REPORT_EVERY_S = 60.0  # live mode: how often to log how far the run has come
TICK_S = 0.1  # how often a waiting runner looks at its stop signal


Delivery = Emission | TraceRecord | LogLine | QueueSample
Lane = tuple[str, str]  # (channel, service or source): one request per lane and round


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
    spans: int = 0  # spans exported (telemetry)
    log_lines: int = 0  # log lines posted (telemetry)
    queue_samples: int = 0  # queue samples posted


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


def items(
    *,
    options: RunOptions,
    now: datetime,
    estate: Estate | None = None,
    telemetry: bool = True,
    queues: bool = True,
) -> Iterator[Item]:
    """The run's deliveries in order: pure, so tests can read exactly what a run would send.

    Spans and log lines are among them when the scenario turns them on and `telemetry` is
    true (a run whose sink has no telemetry channel passes false); queue samples likewise with
    `queues`.
    """
    estate = estate or default_estate()
    world = World(seed=options.seed, volume=options.scenario.volume, estate=estate)
    injector = FaultInjector(options.scenario.faults, seed=options.seed, now=now, estate=estate)
    planner = None
    if telemetry and options.scenario.telemetry.enabled:
        planner = TelemetryPlanner(options.scenario.telemetry, seed=options.seed, estate=estate)
    sampler = None
    if queues and options.scenario.telemetry.queues:
        sampler = QueueSampler(
            seed=options.seed,
            estate=estate,
            volume=options.scenario.volume,
            faults=options.scenario.faults,
            now=now,
        )
    if not options.live:
        until: datetime | None = now
    elif options.live_for is not None:
        until = now + options.live_for
    else:
        until = None
    return stream(
        world=world,
        start=now - options.backfill,
        until=until,
        faults=injector,
        telemetry=planner,
        queues=sampler,
    )


def _wait(seconds: float, stop: Callable[[], bool]) -> bool:
    """Sleep up to `seconds`, waking early when asked to stop; True if asked."""
    deadline = time.monotonic() + seconds
    while not stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, TICK_S))
    return True


def _lane(item: Delivery) -> Lane:
    if isinstance(item, TraceRecord):
        return ("spans", item.service)
    if isinstance(item, LogLine):
        return ("logs", item.source)
    if isinstance(item, QueueSample):
        return ("queues", "")
    return ("events", "")


def _place(lane: Lane) -> tuple[int, str]:
    """Where a lane goes within a round: events first (an unreachable tower then shows as a
    failed event post), then spans (each service's together: the exporter groups a request by
    service, so one export per round carries them all in this order), then log lines, then
    queue samples."""
    return {"events": 0, "spans": 1, "logs": 2, "queues": 3}[lane[0]], lane[1]


def _joins(item: Emission | TraceRecord | LogLine) -> bool:
    return item.joins if isinstance(item, TraceRecord | LogLine) else True


def rounds(deliveries: Sequence[Delivery]) -> list[list[tuple[Lane, list[Delivery]]]]:
    """The deliveries as rounds of one request per lane, lanes in a fixed order, such that the
    tower stores each story's journey events in the order given (see the module docstring).

    Spans and lines that become no journey's event (no key, not an error) go in the first
    round: their order matters to nobody.
    """
    latest: dict[int, tuple[int, tuple[int, str]]] = {}  # story -> (round, place) of its last
    out: list[dict[Lane, list[Delivery]]] = []
    for item in deliveries:
        lane = _lane(item)
        place, number = _place(lane), 0
        if not isinstance(item, QueueSample) and _joins(item):
            before = latest.get(item.story)
            if before is not None:
                number = before[0] if place >= before[1] else before[0] + 1
            latest[item.story] = (number, place)
        while len(out) <= number:
            out.append({})
        out[number].setdefault(lane, []).append(item)
    return [sorted(lanes.items(), key=lambda entry: _place(entry[0])) for lanes in out]


class _Batcher:
    """Collects due deliveries and sends them; writes fault records once what came before
    them is sent, so a run cut short leaves no fault the tower could not have seen."""

    def __init__(
        self,
        sink: EventSink,
        telemetry: TelemetrySink | None,
        truth: GroundTruthWriter | None,
        summary: RunSummary,
        size: int,
        queues: QueueSink | None = None,
    ) -> None:
        self.sink, self.telemetry, self.truth, self.queues = sink, telemetry, truth, queues
        self.summary, self.size = summary, size
        self.window = size if telemetry is None else max(size, TELEMETRY_WINDOW)
        self.pending: list[Delivery] = []
        self.events = 0  # events among them: the window counts these
        self.faults: list[FaultRecord] = []
        self.started = 0.0
        self.reported = time.monotonic()

    def add(self, item: Item) -> None:
        self.summary.last_at = item.when
        if isinstance(item, FaultRecord):
            self.summary.faults += 1
            self.faults.append(item)
            return
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(item)
        if isinstance(item, Emission):
            self.events += 1
            if self.events >= self.window:
                self.flush()

    def flush(self) -> None:
        if self.pending:
            self._send_pending()
        if self.truth is not None:
            for record in self.faults:
                self.truth.write(record)
            self.truth.flush()
        self.faults = []

    def _send_pending(self) -> None:
        if self.events == len(self.pending):
            self._events(self.pending)  # type: ignore[arg-type]
        else:
            for lanes in rounds(self.pending):
                traces: list[TraceRecord] = []
                for (channel, name), group in lanes:
                    if channel == "spans":  # lanes in place order: the spans are adjacent
                        traces += [item for item in group if isinstance(item, TraceRecord)]
                        continue
                    if traces:
                        self._traces(traces)
                        traces = []
                    self._send(channel, name, group)
                if traces:
                    self._traces(traces)
        self.pending = []
        self.events = 0
        if time.monotonic() - self.reported > REPORT_EVERY_S:
            self.reported = time.monotonic()
            log.info(
                "simulated up to %s: %d events sent, %d faults injected so far",
                format_time(self.summary.last_at or self.summary.now),
                self.summary.sent,
                self.summary.faults,
            )

    def _send(self, channel: str, name: str, group: list[Delivery]) -> None:
        if channel == "events":
            self._events([item for item in group if isinstance(item, Emission)])
            return
        if channel == "queues":
            assert self.queues is not None  # the stream has samples only when there is a sink
            samples = [item for item in group if isinstance(item, QueueSample)]
            self._rejected(self.queues.send_samples(samples).rejected)
            self.summary.queue_samples += len(samples)
            return
        assert self.telemetry is not None  # the stream has telemetry only when there is a sink
        lines = [item for item in group if isinstance(item, LogLine)]
        # Events the tower derives from error lines are not ours to count as sent; a refused
        # one is reported like a refused event.
        self._rejected(self.telemetry.send_logs(name, lines).rejected)
        self.summary.log_lines += len(lines)

    def _traces(self, traces: list[TraceRecord]) -> None:
        assert self.telemetry is not None
        self.summary.spans += self.telemetry.send_traces(traces)

    def _events(self, events: list[Emission]) -> None:
        for start in range(0, len(events), self.size):
            batch = events[start : start + self.size]
            result = self.sink.send(batch)
            self.summary.sent += len(batch)
            self.summary.accepted += result.accepted
            self.summary.duplicates += result.duplicates
            self._rejected(result.rejected)

    def _rejected(self, rejected: list[tuple[str, str]]) -> None:
        self.summary.rejected.extend(rejected)
        for event_id, reason in rejected[:5]:
            log.warning("tower rejected %s: %s", event_id, reason)


def run(
    *,
    options: RunOptions,
    sink: EventSink,
    telemetry: TelemetrySink | None = None,
    stop: Callable[[], bool] = lambda: False,
    clock: Clock = utc_now,
    queues: QueueSink | None = None,
) -> RunSummary:
    """Backfill, then (if live) pace the rest by the wall clock until stopped or done.

    Spans and log lines, when the scenario turns them on, go to `telemetry`; without one, an
    HttpEventSink's tower gets them too (a file sink gets events only). Queue samples go to
    `queues` the same way.
    """
    now = (options.now or clock()).replace(microsecond=0)
    summary = RunSummary(now=now)
    owned: HttpTelemetrySink | None = None
    if telemetry is None and options.scenario.telemetry.enabled:
        if isinstance(sink, HttpEventSink):
            telemetry = owned = HttpTelemetrySink(sink.url)
        else:
            log.info("spans and log lines go only to a tower; this run writes events only")
    owned_queues: HttpQueueSink | None = None
    if queues is None and options.scenario.telemetry.queues:
        if isinstance(sink, HttpEventSink):
            queues = owned_queues = HttpQueueSink(sink.url)
        else:
            log.info("queue samples go only to a tower; this run writes none")
    truth = None
    if options.ground_truth is not None:
        truth = GroundTruthWriter(options.ground_truth, header=_header(options, now))
    batcher = _Batcher(sink, telemetry, truth, summary, options.batch_size, queues)
    began = time.monotonic()
    live_from: float | None = None
    try:
        stream = items(
            options=options, now=now, telemetry=telemetry is not None, queues=queues is not None
        )
        for item in stream:
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
    except (httpx.HTTPError, TelemetryError) as exc:
        if not stop():
            what = "spans" if isinstance(exc, TelemetryError) else "events"
            raise SimulatorError(f"could not send {what}: {exc}") from exc
        log.info(
            "tower went away while stopping; %d deliveries were still pending",
            len(batcher.pending),
        )
    finally:
        if truth is not None:
            truth.close(ended_at=summary.last_at)
        if owned is not None:
            owned.close()
        if owned_queues is not None:
            owned_queues.close()
    log.info(
        "simulator stopped: %d events sent, %d accepted, %d duplicates, %d rejected, %d faults%s",
        summary.sent,
        summary.accepted,
        summary.duplicates,
        len(summary.rejected),
        summary.faults,
        _telemetry_note(summary),
    )
    return summary


def _telemetry_note(summary: RunSummary) -> str:
    """`, S spans, L log lines` when the run sent any; nothing for an events-only run."""
    note = ""
    if summary.spans or summary.log_lines:
        note = f", {summary.spans} spans, {summary.log_lines} log lines"
    if summary.queue_samples:
        note += f", {summary.queue_samples} queue samples"
    return note


def _backfilled(summary: RunSummary, began: float) -> float:
    summary.backfill_events = summary.sent
    summary.backfill_seconds = time.monotonic() - began
    log.info(
        "backfilled %d events%s up to %s in %.1f s",
        summary.sent,
        _telemetry_note(summary),
        format_time(summary.now),
        summary.backfill_seconds,
    )
    return time.monotonic()


def _pace(due: float, batcher: _Batcher, stop: Callable[[], bool]) -> bool:
    """Wait for the wall clock to reach `due`, posting what is due meanwhile; True to stop."""
    while (left := due - time.monotonic()) > 0:
        idle = time.monotonic() - batcher.started
        if (batcher.pending or batcher.faults) and (left > FLUSH_IDLE_S or idle > FLUSH_IDLE_S):
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
        "telemetry": options.scenario.telemetry.model_dump(mode="json"),
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
        self._telemetry: HttpTelemetrySink | None = None
        self._queues: HttpQueueSink | None = None

    def stop(self) -> None:
        self._stopped.set()
        telemetry = self._telemetry
        if telemetry is not None:
            # The span exporter retries a vanished tower with backoff; cut that short.
            telemetry.abort()

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
            if self.options.scenario.telemetry.enabled:
                self._telemetry = HttpTelemetrySink(self.url)
            if self.options.scenario.telemetry.queues:
                self._queues = HttpQueueSink(self.url)
            with HttpEventSink(self.url) as sink:
                self.summary = run(
                    options=self.options,
                    sink=sink,
                    telemetry=self._telemetry,
                    stop=self.stopping,
                    queues=self._queues,
                )
        except Exception as exc:  # the thread's last word: log it, keep it for the caller
            log.exception("simulator failed")
            self.error = exc
        finally:
            if self._telemetry is not None:
                self._telemetry.close()
            if self._queues is not None:
                self._queues.close()


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
