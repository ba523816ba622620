"""Where one ingest batch's CPU goes, stage by stage, in one process (decision 0011).

`python -m benchmarks --only ingest --stages` cuts the events file into request bodies and
runs each through the stages `POST /api/v1/events` runs, timing each stage's CPU
(`resource.getrusage`, every thread of the process) without HTTP, without other requests and
without the GIL shared with them: what each stage costs on its own. The writer's statements
are run one by one, as Writer._commit runs them, so DuckDB's part shows apart from Python's.
Beside it, the ceiling's CPU per event, and the budget a ratio of 0.40 would leave.
"""

from __future__ import annotations

import itertools
import resource
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from rich.table import Table

from benchmarks.ceiling import Ceiling, measure_ceiling
from benchmarks.events import events_file
from collector.ingest import BodyFormat, ValidatedBatch, all_vouched
from collector.redaction import Redactor, load_redaction
from collector.writer import COMMIT_EVENTS, Writer, _concat_events, _Pending, _staged_keys
from tower.db import Store
from tower.listeners import tune_garbage_collector
from tower.settings import Settings

__all__ = ["Stages", "run", "table"]

ROUNDS = 3  # the best of these is kept: other work on the machine only ever adds
RATIO_GOAL = 0.40
Lap = Callable[[str], None]  # ends the named stage's clock and starts the next
CORES = 2


@dataclass(frozen=True, slots=True)
class Stages:
    """CPU milliseconds per batch for each stage (best of ROUNDS), and the ceiling."""

    batch_size: int
    batches: int
    milliseconds: dict[str, float]
    ceiling: Ceiling

    def per_event_us(self, stage: str) -> float:
        return self.milliseconds[stage] * 1000 / self.batch_size

    @property
    def total_us(self) -> float:
        return sum(self.milliseconds.values()) * 1000 / self.batch_size

    @property
    def ceiling_us(self) -> float:
        """DuckDB's CPU per event in the ceiling's load (both cores busy)."""
        return CORES * self.ceiling.seconds * 1e6 / self.ceiling.events

    @property
    def budget_us(self) -> float:
        """CPU per event that a tower at RATIO_GOAL of the ceiling may spend on both cores."""
        return CORES * 1e6 / (RATIO_GOAL * self.ceiling.events_per_second)


def run(*, out_dir: Path, events: int, batch_size: int, batches: int = 40) -> Stages:
    """Time every stage over `batches` bodies of `batch_size` events, ROUNDS times."""
    path = events_file(out_dir, events)
    with path.open("rb") as fh:
        lines = list(itertools.islice(fh, batch_size * batches))
    bodies = [b"".join(lines[i : i + batch_size]) for i in range(0, len(lines), batch_size)]
    tune_garbage_collector()  # as `tower serve` runs
    redactor = Redactor(load_redaction(None), salt=b"benchmark")
    best: dict[str, float] = {}
    with TemporaryDirectory(dir=out_dir, prefix="stages-") as tmp:
        ceiling = measure_ceiling(path, Path(tmp) / "ceiling.duckdb")
        for n in range(ROUNDS):
            spent = _one_round(Path(tmp) / f"round-{n}.duckdb", bodies, redactor)
            for stage, seconds in spent.items():
                best[stage] = min(best.get(stage, float("inf")), seconds * 1000 / len(bodies))
    return Stages(batch_size, len(bodies), best, ceiling)


def _one_round(db_path: Path, bodies: list[bytes], redactor: Redactor) -> dict[str, float]:
    store = Store(db_path, threads=Settings().duckdb_threads)  # TOWER_DUCKDB_THREADS
    writer = Writer(store, max_queued_events=10**9, max_commit_events=10**6)
    spent: dict[str, float] = {}
    clock = _cpu()

    def lap(stage: str) -> None:
        nonlocal clock
        now = _cpu()
        spent[stage] = spent.get(stage, 0.0) + now - clock
        clock = now

    try:
        for body in bodies:
            clock = _cpu()
            batch = all_vouched(body, BodyFormat.NDJSON, datetime.now(UTC))
            if batch is None:
                raise RuntimeError("the typed pass did not vouch for a benchmark body")
            lap("validation (typed pass)")
            batch = replace(batch, events=redactor.redact_events(batch.events))
            lap("PII redaction")
            batch.key_rows  # noqa: B018  (cut now, as the request thread does)
            lap("key rows")
            _commit_by_statement(store, writer, batch, lap)
    finally:
        store.close()
    return spent


def _commit_by_statement(store: Store, writer: Writer, batch: ValidatedBatch, lap: Lap) -> None:
    group = [_Pending(batch, "stages")]
    with store.transaction(doing="benchmark commit") as con:
        staged, hashes = writer._stage(con, _concat_events(group))
        staged_keys = _staged_keys(group, staged)
        lap("writer: duplicate check, sequence numbers")
        con.register("staged", staged)
        con.register("staged_keys", staged_keys)
        for statement, stage in zip(
            COMMIT_EVENTS, ("writer: INSERT events", "writer: INSERT event_keys"), strict=True
        ):
            con.execute(statement)
            lap(stage)
        con.unregister("staged")
        con.unregister("staged_keys")
    lap("writer: COMMIT (the WAL)")
    writer._seen.add(hashes)
    writer._last_seq += len(hashes)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def table(stages: Stages) -> Table:
    out = Table(
        title=f"ingest CPU by stage, per batch of {stages.batch_size:,} events "
        f"(best of {ROUNDS} rounds of {stages.batches} batches, in process)"
    )
    out.add_column("stage")
    out.add_column("CPU per batch", justify="right")
    out.add_column("per event", justify="right")
    for stage, ms in stages.milliseconds.items():
        out.add_row(stage, f"{ms:.1f} ms", f"{stages.per_event_us(stage):.2f} µs")
    out.add_row("sum", f"{sum(stages.milliseconds.values()):.1f} ms", f"{stages.total_us:.2f} µs")
    out.add_row(
        "DuckDB read_ndjson (the ceiling)",
        "",
        f"{stages.ceiling_us:.2f} µs",
    )
    out.add_row(
        f"budget at {RATIO_GOAL:.2f} of the ceiling, {CORES} cores, clients included",
        "",
        f"{stages.budget_us:.2f} µs",
    )
    return out
