"""The ingest benchmark: HTTP batch ingest into a real tower against DuckDB's own read_ndjson.

One events file, three measurements in one run:

1. the ceiling: DuckDB's read_ndjson of the file into a fresh database;
2. the maximum rate: `tower serve` on a fresh database, the clients posting back to back, once
   with plain and once with gzip bodies (the faster encoding is the tower's figure);
3. half that rate: a fresh tower again, the clients pacing their posts to offer half the
   maximum, for the ack latency a tower with headroom gives.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.ceiling import Ceiling, measure_ceiling
from benchmarks.client import ClientPlan, ClientResult, run_client
from benchmarks.events import events_file
from benchmarks.stats import quantile_ms
from tests.factories import make_events
from tests.servers import ProcessServer

__all__ = ["IngestRun", "Phase", "Setup", "run"]

CLIENT_TIMEOUT = 3600.0  # seconds a phase may take before the benchmark gives up
BUSY_LOAD = 0.5  # a 1-minute load average above this before the run gets a warning
WARM_UP_EVENTS = 1_000  # posted before the clients start, and not counted
WARM_UP_PAUSE = 3.0  # seconds for the jobs a tower runs once at start


@dataclass(frozen=True, slots=True)
class Setup:
    """The benchmark's parameters."""

    events: int
    batch_size: int
    clients: int
    out_dir: Path


@dataclass(frozen=True, slots=True)
class Commits:
    """The tower's own figures for its group commits during a phase (from /metrics)."""

    count: int
    events: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Phase:
    """One run of the clients against a fresh tower."""

    name: str
    gzip: bool
    offered: float | None  # events/s the clients offered; None: as fast as they could
    accepted: int
    duplicates: int
    rejected: int
    seconds: float  # first post to last ack
    latencies: tuple[float, ...]  # seconds per batch
    busy_retries: int
    max_behind: float  # paced clients: the worst lateness against their schedule (s)
    stored: int  # events the tower holds afterwards
    commits: Commits

    @property
    def events_per_second(self) -> float:
        return self.accepted / self.seconds

    def latency_ms(self, q: float) -> float:
        """The q-quantile (0..1) of ack latency in milliseconds, by nearest rank."""
        return quantile_ms(self.latencies, q)


@dataclass(frozen=True, slots=True)
class IngestRun:
    """Everything one benchmark run measured."""

    setup: Setup
    events_path: Path
    load_at_start: float  # the 1-minute load average: other work on the machine skews figures
    ceiling: Ceiling
    plain: Phase
    gzip: Phase
    half: Phase

    @property
    def best(self) -> Phase:
        """The maximum-rate phase of the faster encoding."""
        return faster(self.plain, self.gzip)

    @property
    def ratio(self) -> float:
        return self.best.events_per_second / self.ceiling.events_per_second


def run(setup: Setup) -> IngestRun:
    """Generate (or reuse) the events, then measure the ceiling and the three tower phases."""
    started = time.perf_counter()
    path = events_file(setup.out_dir, setup.events)
    megabytes = path.stat().st_size / 1e6
    print(f"events: {path} ({megabytes:,.0f} MB, ready in {time.perf_counter() - started:.1f} s)")
    load = os.getloadavg()[0]
    if load > BUSY_LOAD:
        print(f"warning: load average {load:.2f} before the run; other work will skew the figures")
    with TemporaryDirectory(dir=setup.out_dir, prefix="run-") as tmp:
        work = Path(tmp)
        ceiling = measure_ceiling(path, work / "ceiling.duckdb")
        _check(ceiling.events, setup.events, "DuckDB read_ndjson")
        loads = ", ".join(f"{s:.2f}" for s in ceiling.all_seconds)
        print(f"ceiling: {ceiling.events_per_second:,.0f} events/s (fastest of loads in {loads} s)")
        plain = run_phase(setup, path, work / "plain.duckdb", name="max rate, plain", gzip=False)
        packed = run_phase(setup, path, work / "gzip.duckdb", name="max rate, gzip", gzip=True)
        best = faster(plain, packed)
        half = run_phase(
            setup,
            path,
            work / "half.duckdb",
            name=f"half rate, {'gzip' if best.gzip else 'plain'}",
            gzip=best.gzip,
            offered=best.events_per_second / 2,
        )
    return IngestRun(setup, path, load, ceiling, plain, packed, half)


def faster(plain: Phase, packed: Phase) -> Phase:
    """Plain bodies, unless gzip ones went faster."""
    return packed if packed.events_per_second > plain.events_per_second else plain


def run_phase(
    setup: Setup,
    events_path: Path,
    db_path: Path,
    *,
    name: str,
    gzip: bool,
    offered: float | None = None,
    env: dict[str, str] | None = None,
) -> Phase:
    """Start a tower on a fresh database, run the clients against it, read its figures."""
    # The ceiling (read_ndjson) stitches nothing, so neither does the tower here: the
    # correlator's own throughput is benchmarks/correlate.py's to measure.
    server = ProcessServer(db_path, env={"TOWER_CORRELATE_EVERY": "1h", **(env or {})}).start()
    try:
        warm_up(server.url)
        _, before = tower_figures(server.url)
        plans = client_plans(
            setup, f"{server.url}/api/v1/events", events_path, gzip=gzip, offered=offered
        )
        results = run_clients(plans)
        stored, after = tower_figures(server.url)
        stored -= WARM_UP_EVENTS
        commits = Commits(
            count=after.count - before.count,
            events=after.events - before.events,
            seconds=after.seconds - before.seconds,
        )
    except Exception:
        print(_log_tail(db_path.with_suffix(".log")))
        raise
    finally:
        server.stop()
    phase = Phase(
        name=name,
        gzip=gzip,
        offered=offered,
        accepted=sum(r.accepted for r in results),
        duplicates=sum(r.duplicates for r in results),
        rejected=sum(r.rejected for r in results),
        seconds=max(r.last_ack for r in results) - min(r.first_send for r in results),
        latencies=tuple(x for r in results for x in r.latencies),
        busy_retries=sum(r.busy_retries for r in results),
        max_behind=max(r.max_behind for r in results),
        stored=stored,
        commits=commits,
    )
    _check(phase.accepted, setup.events, f"{name}: accepted")
    _check(phase.stored, setup.events, f"{name}: stored")
    print(
        f"{name}: {phase.events_per_second:,.0f} events/s, ack p50 {phase.latency_ms(0.5):,.0f} ms"
        f" p99 {phase.latency_ms(0.99):,.0f} ms, {phase.busy_retries} busy retries"
    )
    return phase


def client_plans(
    setup: Setup, url: str, events_path: Path, *, gzip: bool, offered: float | None
) -> list[ClientPlan]:
    """An equal share of the file's lines per client; paced to `offered` events/s in total."""
    interval = None if offered is None else setup.batch_size * setup.clients / offered
    bounds = [setup.events * i // setup.clients for i in range(setup.clients + 1)]
    return [
        ClientPlan(
            url=url,
            path=events_path,
            first_line=bounds[i],
            lines=bounds[i + 1] - bounds[i],
            batch_size=setup.batch_size,
            gzip=gzip,
            interval=interval,
            delay=0.0 if interval is None else interval * i / setup.clients,  # interleaved
        )
        for i in range(setup.clients)
    ]


def run_clients(plans: Sequence[ClientPlan]) -> list[ClientResult]:
    """One process per plan, started together; their results, or the first one's failure."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(len(plans))
    results: multiprocessing.Queue[ClientResult] = spawn.Queue()
    processes = [
        spawn.Process(target=run_client, args=(plan, ready, results), name=f"client-{i}")
        for i, plan in enumerate(plans)
    ]
    for process in processes:
        process.start()
    try:
        collected = _collect(results, processes)
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    for result in collected:
        if result.error is not None:
            raise RuntimeError(f"a client failed:\n{result.error}")
    return collected


def _collect(
    results: multiprocessing.Queue[ClientResult], processes: Sequence[BaseProcess]
) -> list[ClientResult]:
    """Every client's result; fails fast if a client process dies without one."""
    collected: list[ClientResult] = []
    deadline = time.monotonic() + CLIENT_TIMEOUT
    while len(collected) < len(processes):
        try:
            collected.append(results.get(timeout=1.0))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes):
                raise RuntimeError("a client process died without a result") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"clients still busy after {CLIENT_TIMEOUT:.0f} s") from None
    return collected


def warm_up(url: str) -> None:
    """One small batch, then a pause: what a tower that has been running has already done.

    A fresh process pays for its first request (lazy imports, first query plans) and runs
    its scheduled jobs once at start; measured, that put 1.6-2.1 s on the first two acks.
    """
    body = b"\n".join(orjson.dumps(e) for e in make_events(WARM_UP_EVENTS, prefix="warm-up"))
    httpx.post(
        url + "/api/v1/events",
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
        timeout=60,
    ).raise_for_status()
    time.sleep(WARM_UP_PAUSE)


def tower_figures(url: str) -> tuple[int, Commits]:
    """How many events the tower holds, and its commit figures from /metrics."""
    health = httpx.get(f"{url}/api/v1/health", timeout=60).raise_for_status().json()
    text = httpx.get(f"{url}/metrics", timeout=60).raise_for_status().text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    commits = Commits(
        count=int(samples.get("tower_batch_commit_seconds_count", 0)),
        events=int(samples.get("tower_batch_commit_events_sum", 0)),
        seconds=samples.get("tower_batch_commit_seconds_sum", 0.0),
    )
    return int(health["events"]), commits


def _check(got: int, expected: int, what: str) -> None:
    if got != expected:
        raise RuntimeError(f"{what}: {got:,} events, expected {expected:,}")


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no tower log at {path})"
    return f"tower log ({path}), last {lines} lines:\n" + "\n".join(text.splitlines()[-lines:])


# -- the tower's own instrumentation (tower/selfobs): its cost on ingest at full rate ----------

TELEMETRY_ON = {"TOWER_TELEMETRY": "otlp"}  # spans and metrics to the tower's own /v1 receiver
OVERHEAD_GOAL = 0.05  # at most 5 % fewer events/s with the SDK on
OVERHEAD_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Overhead:
    """Max-rate ingest with the OpenTelemetry SDK off and on, alternating, best of each."""

    off: tuple[Phase, ...]
    on: tuple[Phase, ...]
    per_batch_seconds: float  # in-process: what instrumentation adds to one batch
    batch_share: float  # that, as a share of one batch's time at the "off" rate

    @property
    def off_rate(self) -> float:
        return max(p.events_per_second for p in self.off)

    @property
    def on_rate(self) -> float:
        return max(p.events_per_second for p in self.on)

    @property
    def overhead(self) -> float:
        """The share of throughput the instrumentation costs (negative: within noise)."""
        return 1 - self.on_rate / self.off_rate

    @property
    def ratio(self) -> float:
        """The overhead against its goal (under 1 meets it)."""
        return max(self.overhead, 0.0) / OVERHEAD_GOAL


def run_overhead(setup: Setup) -> Overhead:
    """Max-rate phases (plain bodies) alternating telemetry off and on, on fresh databases."""
    path = events_file(setup.out_dir, setup.events)
    off: list[Phase] = []
    on: list[Phase] = []
    with TemporaryDirectory(dir=setup.out_dir, prefix="run-") as tmp:
        for n in range(OVERHEAD_ROUNDS):
            for phases, env, label in ((off, None, "off"), (on, TELEMETRY_ON, "on")):
                phases.append(
                    run_phase(
                        setup,
                        path,
                        Path(tmp) / f"{label}-{n}.duckdb",
                        name=f"telemetry {label}, round {n + 1}",
                        gzip=False,
                        env=env,
                    )
                )
    off_rate = max(p.events_per_second for p in off)
    per_batch = instrumentation_cost()
    share = per_batch / (setup.batch_size / off_rate)
    result = Overhead(tuple(off), tuple(on), per_batch, share)
    print(
        f"instrumentation per batch: {per_batch * 1e6:,.1f} µs, {share:.3%} of a "
        f"{setup.batch_size}-event batch's time at {off_rate:,.0f} events/s (in-process, SDK on)"
    )
    print(
        f"telemetry overhead on ingest: {result.overhead:+.1%} "
        f"({result.on_rate:,.0f} events/s on vs {result.off_rate:,.0f} off, best of "
        f"{OVERHEAD_ROUNDS}); goal < {OVERHEAD_GOAL:.0%}, ratio to goal {result.ratio:.2f}"
    )
    return result


def instrumentation_cost(batches: int = 20_000) -> float:
    """Seconds the tower's per-batch instrumentation costs with the SDK on, measured in-process.

    The end-to-end comparison above is at the mercy of other work on the machine; this isolates
    what instrumentation adds to one batch: a span with its attributes, through a batching
    processor (to an in-memory exporter), and the metric updates.
    """
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client import CollectorRegistry

    from tower.selfobs.metrics import SelfMetrics
    from tower.selfobs.telemetry import resource

    provider = TracerProvider(resource=resource("bench"))
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    tracer = provider.get_tracer("tower.collector")
    metrics = SelfMetrics(
        registry=CollectorRegistry(),
        # the figures (gauges) are never read here: only the per-batch instruments are timed
        figures=lambda _now: None,  # type: ignore[arg-type,return-value]
        clock=lambda: datetime.now(UTC),
        readers=[InMemoryMetricReader()],
        resource=resource("bench"),
    )
    started = time.perf_counter()
    for _ in range(batches):
        with tracer.start_as_current_span("tower.ingest.batch") as span:
            span.set_attributes(
                {
                    "tower.ingest.size": 5000,
                    "tower.ingest.accepted": 4990,
                    "tower.ingest.duplicates": 5,
                    "tower.ingest.rejected": 5,
                    "tower.ingest.commit_wait_seconds": 0.01,
                }
            )
        metrics.batch(size=5000, accepted=4990, duplicates=5, rejected=5, commit_wait=0.01)
    cost = (time.perf_counter() - started) / batches
    provider.shutdown()
    metrics.shutdown()
    return cost
