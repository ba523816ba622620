"""Correlator benchmark: stitch throughput, event-to-journey visibility delay, any-ID lookup.

Three measurements on the same generated estate as the ingest benchmark:
- stitch: the events are stored through the collector's real validation and writer (in
  process, no HTTP: this phase measures the correlator), then `run_until_caught_up` stitches
  them; events/s, and the ratio to the ingest rate of benchmarks/out/ingest.json. Goal >= 1.0.
- lookup: any-ID search (the service behind GET /api/v1/journeys/search) for IDs drawn from
  the stored keys; p50/p95. Goal p95 <= 20 ms.
- visibility: a real `tower serve` process, fed at a steady rate over HTTP; for each batch, the
  time from its 200 until its last event's journey is found by search. Goal p95 <= 5 s.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import orjson
from rich.table import Table

from benchmarks.events import events_file
from collector.ingest import BodyFormat, split_items, validate
from collector.writer import Writer
from correlator.jobs import RunReport, run_until_caught_up
from correlator.models import load_models
from correlator.service import search_journeys
from tower.db import Store
from tower.settings import Settings

__all__ = ["CorrelateRun", "run", "table"]

LOAD_BATCH = 10_000
CHECKPOINT_WAL_BYTES = 256 * 1024 * 1024
GOALS = {"ratio_at_least": 1.0, "lookup_p95_ms_at_most": 20.0, "visibility_p95_s_at_most": 5.0}


@dataclass(slots=True)
class CorrelateRun:
    events: int
    journeys: int = 0
    load_seconds: float = 0.0
    stitch_seconds: float = 0.0
    ingest_events_per_second: float | None = None
    # which ingest run the ratio divides by: it may be old, or from a busy machine
    ingest_run: str = ""
    lookup_ms: list[float] = field(default_factory=list)
    visibility_s: list[float] = field(default_factory=list)
    visibility_rate: float = 0.0

    @property
    def stitch_rate(self) -> float:
        return self.events / self.stitch_seconds if self.stitch_seconds else 0.0

    @property
    def ratio(self) -> float | None:
        if not self.ingest_events_per_second:
            return None
        return self.stitch_rate / self.ingest_events_per_second

    def figures(self) -> dict[str, object]:
        return {
            "events": self.events,
            "journeys": self.journeys,
            "load_seconds": round(self.load_seconds, 2),
            "stitch_seconds": round(self.stitch_seconds, 2),
            "stitch_events_per_second": round(self.stitch_rate),
            "ingest_events_per_second": self.ingest_events_per_second,
            "ingest_run": self.ingest_run,
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "lookup_ms": _quantiles(self.lookup_ms),
            "visibility_offered_events_per_second": round(self.visibility_rate),
            "visibility_s": _quantiles(self.visibility_s),
            "goals": GOALS,
        }


def run(*, out_dir: Path, events: int, visibility_seconds: float = 30.0) -> CorrelateRun:
    """Generate (or reuse) the estate, then measure stitch, lookup and visibility."""
    path = events_file(out_dir, events)
    ingest_rate, ingest_run = _ingest_rate(out_dir)
    result = CorrelateRun(
        events=events, ingest_events_per_second=ingest_rate, ingest_run=ingest_run
    )
    with TemporaryDirectory(dir=out_dir, prefix="correlate-") as tmp:
        store = Store(Path(tmp) / "estate.duckdb")
        try:
            result.load_seconds = _load(store, path)
            print(f"stored {events:,} events in {result.load_seconds:.1f} s; stitching ...")
            started = time.perf_counter()

            def progress(report: RunReport) -> None:
                print(
                    f"  watermark {report.watermark:,}: {report.events:,} events in "
                    f"{report.seconds:.1f} s",
                    flush=True,
                )
                store.checkpoint_if_needed(wal_bytes=CHECKPOINT_WAL_BYTES)

            run_until_caught_up(
                store=store,
                models=load_models(),
                batch_size=Settings().correlate_batch,  # what `tower correlate` and serve use
                on_progress=progress,
            )
            result.stitch_seconds = time.perf_counter() - started
            result.journeys = int(store.scalar("SELECT count(*) FROM journeys", doing="count"))
            result.lookup_ms = _lookups(store)
        finally:
            store.close()
        # Closing checkpoints gigabytes at 10 M events; flush them now, or the disk writes them
        # back during the next phase and its commits (each an fsync) wait for it.
        os.sync()
        rate = min(5_000.0, (result.ingest_events_per_second or 10_000.0) / 2)
        result.visibility_rate = rate
        result.visibility_s = _visibility(path, Path(tmp), rate=rate, seconds=visibility_seconds)
    return result


def _ingest_rate(out_dir: Path) -> tuple[float | None, str]:
    """The tower's max ingest rate from the last ingest benchmark, and which run that was."""
    figures = out_dir / "ingest.json"
    if not figures.exists():
        return None, ""
    run = orjson.loads(figures.read_bytes())
    rate = run.get("tower_events_per_second")
    setup = run.get("setup", {})
    described = (
        f"{setup.get('events', 0):,} events, load {setup.get('load_average_at_start', 0):.1f}"
    )
    return (float(rate) if rate else None), described


def _load(store: Store, path: Path) -> float:
    """Store the file through the collector's own validation and writer."""
    writer = Writer(store, max_queued_events=10 * LOAD_BATCH, max_commit_events=4 * LOAD_BATCH)
    writer.start()
    started = time.perf_counter()
    try:
        for chunk in _chunks(path, LOAD_BATCH):
            batch = validate(
                store, split_items(chunk, BodyFormat.NDJSON), received_at=datetime.now(UTC)
            )
            outcome = writer.submit(batch, request_id="bench").result()
            if outcome.accepted != batch.events.num_rows:
                raise RuntimeError(f"expected new events only, got {outcome}")
            # What tower serve's background job does: fold the WAL in, or it grows to gigabytes.
            store.checkpoint_if_needed(wal_bytes=CHECKPOINT_WAL_BYTES)
    finally:
        writer.stop()
    return time.perf_counter() - started


def _chunks(path: Path, lines: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while True:
            chunk = b"".join(line for _, line in zip(range(lines), fh, strict=False))
            if not chunk:
                return
            yield chunk


def _lookups(store: Store, samples: int = 1000) -> list[float]:
    ids = [
        r["value"]
        for r in store.query(
            "SELECT value FROM identity"
            f" USING SAMPLE reservoir({int(samples)} ROWS) REPEATABLE (7)",
            doing="sampling IDs",
        )
    ]
    now = datetime.now(UTC)
    timings = []
    for any_id in ids:
        started = time.perf_counter()
        found = search_journeys(store=store, q=any_id, now=now, limit=20)
        timings.append((time.perf_counter() - started) * 1000)
        if not found:
            raise RuntimeError(f"no journey for stored ID {any_id}")
    return timings


def _visibility(path: Path, work: Path, *, rate: float, seconds: float) -> list[float]:
    """Feed a live tower at `rate` events/s; per batch, 200 -> journey searchable."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TOWER_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tower",
            "serve",
            "--db",
            str(work / "live.duckdb"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    delays: list[float] = []
    pending: list[tuple[float, str]] = []
    lock = threading.Lock()
    done = threading.Event()
    try:
        _wait_ready(url)
        watcher = threading.Thread(target=_watch, args=(url, pending, lock, delays, done))
        watcher.start()
        batch_size = max(int(rate), 1)  # one batch per second
        rng = random.Random(11)
        with httpx.Client(base_url=url, timeout=60) as http:
            started = time.monotonic()
            for n, chunk in enumerate(_chunks(path, batch_size)):
                if time.monotonic() - started > seconds:
                    break
                time.sleep(max(0.0, started + n - time.monotonic()))
                lines = chunk.splitlines()
                http.post(
                    "/api/v1/events",
                    content=chunk,
                    headers={"Content-Type": "application/x-ndjson"},
                ).raise_for_status()
                acked = time.monotonic()
                probe = orjson.loads(lines[rng.randrange(len(lines))])
                with lock:
                    pending.append((acked, next(iter(probe["keys"].values()))))
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            time.sleep(0.1)
        done.set()
        watcher.join()
        if pending:
            raise RuntimeError(f"{len(pending)} batches never became visible within 60 s")
    finally:
        server.terminate()
        server.wait(60)
    return delays


def _watch(
    url: str,
    pending: list[tuple[float, str]],
    lock: threading.Lock,
    delays: list[float],
    done: threading.Event,
) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        while not done.is_set():
            with lock:
                waiting = list(pending)
            for acked, any_id in waiting:
                found = http.get("/api/v1/journeys/search", params={"q": any_id}).json()
                if found["items"]:
                    delays.append(time.monotonic() - acked)
                    with lock:
                        pending.remove((acked, any_id))
            time.sleep(0.05)


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("tower did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    cut = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
    return {"p50": round(cut[49], 3), "p95": round(cut[94], 3), "max": round(ordered[-1], 3)}


def table(result: CorrelateRun) -> Table:
    """The figures against their goals, as the ingest benchmark prints them."""
    lookup = _quantiles(result.lookup_ms)
    seen = _quantiles(result.visibility_s)
    out = Table(title=f"correlator: {result.events:,} events, {result.journeys:,} journeys")
    for column in ("figure", "value", "goal", ""):
        out.add_column(column)
    out.add_row(
        "stored through the collector",
        f"{result.events / result.load_seconds:,.0f} events/s (in process)"
        if result.load_seconds
        else "-",
        "",
        "",
    )
    out.add_row(
        "stitched", f"{result.stitch_rate:,.0f} events/s ({result.stitch_seconds:,.1f} s)", "", ""
    )
    if result.ratio is None:
        out.add_row(
            "ratio stitch / ingest", "no ingest.json: run the ingest benchmark first", ">= 1.0", ""
        )
    else:
        out.add_row(
            "ratio stitch / ingest",
            f"{result.ratio:.2f} (ingest {result.ingest_events_per_second:,.0f}/s from its last "
            f"run: {result.ingest_run}; rerun it idle for a fair ratio)",
            ">= 1.0",
            _verdict(result.ratio >= GOALS["ratio_at_least"]),
        )
    if lookup["p95"] is not None:
        out.add_row(
            "any-ID lookup p50 / p95",
            f"{lookup['p50']:.1f} / {lookup['p95']:.1f} ms",
            "p95 <= 20 ms",
            _verdict(lookup["p95"] <= GOALS["lookup_p95_ms_at_most"]),
        )
    if seen["p95"] is not None:
        out.add_row(
            f"visibility at {result.visibility_rate:,.0f} events/s p50 / p95",
            f"{seen['p50']:.2f} / {seen['p95']:.2f} s",
            "p95 <= 5 s",
            _verdict(seen["p95"] <= GOALS["visibility_p95_s_at_most"]),
        )
    return out


def _verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"
