"""The OTLP benchmark: spans per second through POST /v1/traces in binary protobuf.

A `tower serve` on a fresh database (the correlator idle, as in the ingest benchmark), client
processes posting pre-built ExportTraceServiceRequest bodies back to back, once plain and once
gzip-compressed. Every span carries an order attribute, so each one is stored as a span and
yields a canonical event: the tower writes two rows per span. The figure is set beside the
ingest benchmark's events/s (benchmarks/out/ingest.json) and the OpenTelemetry Collector's
published throughput per core.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import platform
import queue
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import duckdb
import httpx
import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from rich.table import Table

from benchmarks.stats import quantile_ms
from tests.servers import ProcessServer

__all__ = ["COLLECTOR_SPANS_PER_CORE", "OtlpRun", "OtlpSetup", "figures", "run", "table"]

# The OpenTelemetry Collector's published load-test figure: about 12k spans/s per CPU core for
# an OTLP-in, OTLP-out traces pipeline (opentelemetry.io, Collector performance / benchmarks).
COLLECTOR_SPANS_PER_CORE = 12_000.0
CLIENT_TIMEOUT = 3600.0
START_TIMEOUT = 600.0
MAX_BUSY_RETRIES = 600
BASE_TIME_NS = 1_795_000_000 * 10**9  # 2026-11-19, so the derived events are recent
STAGES = ("order.accepted", "order.allocated", "order.picked", "order.packed", "order.shipped")


@dataclass(frozen=True, slots=True)
class OtlpSetup:
    """The benchmark's parameters."""

    spans: int
    batch_size: int  # spans per request
    clients: int
    out_dir: Path


@dataclass(frozen=True, slots=True)
class OtlpPlan:
    """What one client sends: spans [first, first + count) in bodies of batch_size."""

    url: str
    first: int
    count: int
    batch_size: int
    gzip: bool


@dataclass(slots=True)
class ClientResult:
    """What one client saw. Times are time.monotonic(), one clock for every process here."""

    accepted: int = 0
    rejected: int = 0
    body_bytes: int = 0
    first_send: float = 0.0
    last_ack: float = 0.0
    latencies: list[float] = field(default_factory=list)  # per request: first send to its 200
    busy_retries: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OtlpPhase:
    """One run of the clients against a fresh tower."""

    name: str
    gzip: bool
    accepted: int  # spans the answers did not refuse
    rejected: int
    seconds: float  # first post to last ack
    latencies: tuple[float, ...]
    busy_retries: int
    body_bytes: int  # mean request body
    stored_spans: int
    derived_events: int

    @property
    def spans_per_second(self) -> float:
        return self.accepted / self.seconds

    def latency_ms(self, q: float) -> float:
        """The q-quantile (0..1) of ack latency in milliseconds, by nearest rank."""
        return quantile_ms(self.latencies, q)


@dataclass(frozen=True, slots=True)
class OtlpRun:
    """Everything one run measured, and what it is compared with."""

    setup: OtlpSetup
    load_at_start: float
    plain: OtlpPhase
    gzip: OtlpPhase
    ingest_events_per_second: float | None  # from benchmarks/out/ingest.json, if there

    @property
    def best(self) -> OtlpPhase:
        return self.gzip if self.gzip.spans_per_second > self.plain.spans_per_second else self.plain

    @property
    def collector_spans_per_second(self) -> float:
        return COLLECTOR_SPANS_PER_CORE * (os.cpu_count() or 1)


def run(setup: OtlpSetup) -> OtlpRun:
    """Measure the plain and the gzip phase, each on a fresh tower."""
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f} before the run; other work will skew the figures")
    setup.out_dir.mkdir(parents=True, exist_ok=True)
    with TemporaryDirectory(dir=setup.out_dir, prefix="otlp-") as tmp:
        work = Path(tmp)
        plain = run_phase(setup, work / "plain.duckdb", name="protobuf, plain", gzip=False)
        packed = run_phase(setup, work / "gzip.duckdb", name="protobuf, gzip", gzip=True)
    return OtlpRun(setup, load, plain, packed, ingest_figure(setup.out_dir / "ingest.json"))


def ingest_figure(path: Path) -> float | None:
    """The ingest benchmark's events/s, when it has been run."""
    try:
        return float(orjson.loads(path.read_bytes())["tower_events_per_second"])
    except (FileNotFoundError, KeyError, ValueError):
        return None


def run_phase(setup: OtlpSetup, db_path: Path, *, name: str, gzip: bool) -> OtlpPhase:
    """Start a tower on a fresh database, post every span, then count what it stored."""
    server = ProcessServer(db_path, env={"TOWER_CORRELATE_EVERY": "1h"}).start()
    try:
        bounds = [setup.spans * i // setup.clients for i in range(setup.clients + 1)]
        plans = [
            OtlpPlan(
                url=f"{server.url}/v1/traces",
                first=bounds[i],
                count=bounds[i + 1] - bounds[i],
                batch_size=setup.batch_size,
                gzip=gzip,
            )
            for i in range(setup.clients)
        ]
        results = run_clients(plans)
    finally:
        server.stop()
    with duckdb.connect(str(db_path), read_only=True) as db:
        stored = db.sql("SELECT count(*) FROM spans").fetchone()
        events = db.sql("SELECT count(*) FROM events").fetchone()
    requests = sum(len(r.latencies) for r in results)
    phase = OtlpPhase(
        name=name,
        gzip=gzip,
        accepted=sum(r.accepted for r in results),
        rejected=sum(r.rejected for r in results),
        seconds=max(r.last_ack for r in results) - min(r.first_send for r in results),
        latencies=tuple(x for r in results for x in r.latencies),
        busy_retries=sum(r.busy_retries for r in results),
        body_bytes=sum(r.body_bytes for r in results) // max(requests, 1),
        stored_spans=int(stored[0]) if stored else 0,
        derived_events=int(events[0]) if events else 0,
    )
    for got, what in ((phase.accepted, "accepted"), (phase.stored_spans, "stored")):
        if got != setup.spans:
            raise RuntimeError(f"{name}: {got:,} spans {what}, expected {setup.spans:,}")
    print(
        f"{name}: {phase.spans_per_second:,.0f} spans/s, ack p50 {phase.latency_ms(0.5):,.0f} ms"
        f" p99 {phase.latency_ms(0.99):,.0f} ms, {phase.busy_retries} busy retries"
    )
    return phase


def build_bodies(plan: OtlpPlan) -> list[bytes]:
    """This client's spans as ExportTraceServiceRequest bodies: one trace per order."""
    bodies = []
    for start in range(plan.first, plan.first + plan.count, plan.batch_size):
        stop = min(start + plan.batch_size, plan.first + plan.count)
        scope = ScopeSpans(spans=[make_span(n) for n in range(start, stop)])
        scope.scope.name = "benchmarks.otlp"
        resource = ResourceSpans(scope_spans=[scope])
        resource.resource.attributes.append(_attr("service.name", "oms-api"))
        body = ExportTraceServiceRequest(resource_spans=[resource]).SerializeToString()
        bodies.append(gzip.compress(body, compresslevel=1) if plan.gzip else body)
    return bodies


def make_span(n: int) -> Span:
    """Span n: a stage of order W-<n // 5>, in that order's trace, 5 to 50 ms long."""
    order = n // len(STAGES)
    start = BASE_TIME_NS + n * 1_000_000
    span = Span(
        trace_id=(order + 1).to_bytes(16, "big"),
        span_id=(n + 1).to_bytes(8, "big"),
        name=STAGES[n % len(STAGES)],
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=start,
        end_time_unix_nano=start + (5 + n % 46) * 1_000_000,
        status=Status(code=Status.STATUS_CODE_OK),
    )
    span.attributes.extend(
        [
            _attr("order.id", f"W-{order}"),
            _attr("erp.sales_order", str(4_500_000 + order)),
            _attr("http.route", "/orders/{id}"),
            _attr("dc", "DC-EAST"),
        ]
    )
    return span


def _attr(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def send_all(client: httpx.Client, plan: OtlpPlan, bodies: list[bytes]) -> ClientResult:
    """Post every body in turn; honour 429/503 with Retry-After like an OTLP exporter."""
    headers = {"Content-Type": "application/x-protobuf"}
    if plan.gzip:
        headers["Content-Encoding"] = "gzip"
    result = ClientResult()
    result.body_bytes = sum(len(b) for b in bodies)
    for number, body in enumerate(bodies):
        sent = time.monotonic()
        for _ in range(MAX_BUSY_RETRIES + 1):
            response = client.post(plan.url, content=body, headers=headers)
            if response.status_code not in (429, 503):
                break
            result.busy_retries += 1
            time.sleep(float(response.headers.get("Retry-After", "1")))
        else:
            raise RuntimeError(f"tower still busy after {MAX_BUSY_RETRIES} retries")
        response.raise_for_status()
        answer = ExportTraceServiceResponse.FromString(response.content)
        result.last_ack = time.monotonic()
        result.first_send = result.first_send or sent
        result.latencies.append(result.last_ack - sent)
        refused = answer.partial_success.rejected_spans
        in_body = min(plan.batch_size, plan.count - number * plan.batch_size)
        result.accepted += in_body - refused
        result.rejected += refused
    return result


def run_client(plan: OtlpPlan, ready: Barrier, results: Queue[ClientResult]) -> None:
    """A client process: build its bodies, wait for the others, send, report."""
    try:
        bodies = build_bodies(plan)
        with httpx.Client(timeout=120.0) as client:
            ready.wait(START_TIMEOUT)
            result = send_all(client, plan, bodies)
    except Exception:
        ready.abort()
        result = ClientResult(error=traceback.format_exc())
    results.put(result)


def run_clients(plans: Sequence[OtlpPlan]) -> list[ClientResult]:
    """One spawned process per plan, started together; their results, or the first failure."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(len(plans))
    results: multiprocessing.Queue[ClientResult] = spawn.Queue()
    processes = [
        spawn.Process(target=run_client, args=(plan, ready, results), name=f"otlp-client-{i}")
        for i, plan in enumerate(plans)
    ]
    for process in processes:
        process.start()
    collected: list[ClientResult] = []
    deadline = time.monotonic() + CLIENT_TIMEOUT
    try:
        while len(collected) < len(processes):
            try:
                collected.append(results.get(timeout=1.0))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    raise RuntimeError("a client process died without a result") from None
                if time.monotonic() > deadline:
                    raise TimeoutError("clients still busy") from None
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    for result in collected:
        if result.error is not None:
            raise RuntimeError(f"a client failed:\n{result.error}")
    return collected


def table(run: OtlpRun) -> Table:
    """The figures side by side with what they are compared with."""
    best = run.best
    cpus = os.cpu_count() or 1
    out = Table(
        title=f"OTLP /v1/traces of {run.setup.spans:,} spans: {run.setup.clients} clients, "
        f"requests of {run.setup.batch_size:,} spans",
        title_justify="left",
    )
    for column in ("figure", "value", "compared with"):
        out.add_column(column)
    for phase in (run.plain, run.gzip):
        chosen = " (chosen)" if phase is best else ""
        out.add_row(
            f"tower, {phase.name}{chosen}",
            f"{phase.spans_per_second:,.0f} spans/s",
            f"{phase.body_bytes / 1000:,.0f} kB per request",
        )
    if run.ingest_events_per_second:
        out.add_row(
            "ratio spans/s / ingest events/s",
            f"{best.spans_per_second / run.ingest_events_per_second:.2f}",
            f"{run.ingest_events_per_second:,.0f} events/s (ingest.json)",
        )
    else:
        out.add_row("ratio spans/s / ingest events/s", "n/a", "run --only ingest first")
    out.add_row(
        "ratio tower / OpenTelemetry Collector",
        f"{best.spans_per_second / run.collector_spans_per_second:.2f}",
        f"{COLLECTOR_SPANS_PER_CORE:,.0f} spans/s per core x {cpus} "
        f"= {run.collector_spans_per_second:,.0f}",
    )
    out.add_row(
        "ack latency p50 / p99",
        f"{best.latency_ms(0.5):,.0f} / {best.latency_ms(0.99):,.0f} ms",
        "",
    )
    for phase in (run.plain, run.gzip):
        out.add_row(
            f"  {phase.name}: stored",
            f"{phase.stored_spans:,} spans, {phase.derived_events:,} events",
            f"{phase.busy_retries} busy retries",
        )
    return out


def figures(run: OtlpRun) -> dict[str, Any]:
    """Every figure of the run, for benchmarks/out/otlp.json."""
    best = run.best
    return {
        "setup": {
            "spans": run.setup.spans,
            "batch_size": run.setup.batch_size,
            "clients": run.setup.clients,
            "cpus": os.cpu_count(),
            "load_average_at_start": run.load_at_start,
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "phases": {"plain": _phase(run.plain), "gzip": _phase(run.gzip)},
        "chosen_encoding": "gzip" if best.gzip else "plain",
        "tower_spans_per_second": best.spans_per_second,
        "ingest_events_per_second": run.ingest_events_per_second,
        "ratio_to_ingest": (
            best.spans_per_second / run.ingest_events_per_second
            if run.ingest_events_per_second
            else None
        ),
        "collector_spans_per_second_per_core": COLLECTOR_SPANS_PER_CORE,
        "collector_spans_per_second": run.collector_spans_per_second,
        "ratio_to_collector": best.spans_per_second / run.collector_spans_per_second,
    }


def _phase(phase: OtlpPhase) -> dict[str, Any]:
    return {
        "gzip": phase.gzip,
        "spans_per_second": phase.spans_per_second,
        "seconds": phase.seconds,
        "accepted": phase.accepted,
        "rejected": phase.rejected,
        "stored_spans": phase.stored_spans,
        "derived_events": phase.derived_events,
        "requests": len(phase.latencies),
        "mean_body_bytes": phase.body_bytes,
        "ack_ms": {
            "p50": phase.latency_ms(0.5),
            "p90": phase.latency_ms(0.9),
            "p99": phase.latency_ms(0.99),
            "max": phase.latency_ms(1.0),
        },
        "busy_retries": phase.busy_retries,
    }
