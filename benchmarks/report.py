"""The ingest benchmark's figures: a table for people, JSON for the record."""

from __future__ import annotations

import os
import platform
from typing import Any

import duckdb
from rich.table import Table

from benchmarks.ingest import IngestRun, Phase

__all__ = ["RATIO_GOAL", "P99_GOAL_MS", "figures", "goals_met", "table"]

RATIO_GOAL = 0.40  # tower events/s over DuckDB read_ndjson events/s, at least
P99_GOAL_MS = 250.0  # ack latency p99 at half the maximum rate, at most


def goals_met(run: IngestRun) -> dict[str, bool]:
    return {
        "ratio": run.ratio >= RATIO_GOAL,
        "half_rate_p99": run.half.latency_ms(0.99) <= P99_GOAL_MS,
    }


def table(run: IngestRun) -> Table:
    """The figures side by side with their goals."""
    met = goals_met(run)
    best, half = run.best, run.half
    out = Table(
        title=f"ingest of {run.setup.events:,} events: {run.setup.clients} clients, "
        f"batches of {run.setup.batch_size:,}",
        title_justify="left",
    )
    for column in ("figure", "value", "goal", ""):
        out.add_column(column)
    out.add_row("DuckDB read_ndjson (ceiling)", _rate(run.ceiling.events_per_second), "", "")
    for phase in (run.plain, run.gzip):
        chosen = " (chosen)" if phase is best else ""
        out.add_row(f"tower, {phase.name}{chosen}", _rate(phase.events_per_second), "", "")
    out.add_row(
        "ratio tower / ceiling", f"{run.ratio:.2f}", f">= {RATIO_GOAL:.2f}", _mark(met["ratio"])
    )
    out.add_row("ack latency at max rate p50 / p99", _latency(best), "", "")
    out.add_row(
        "half rate offered / achieved",
        f"{_rate(half.offered or 0)} / {_rate(half.events_per_second)}",
        "",
        "",
    )
    out.add_row(
        "ack latency at half rate p50 / p99",
        _latency(half),
        f"p99 <= {P99_GOAL_MS:.0f} ms",
        _mark(met["half_rate_p99"]),
    )
    for phase in (run.plain, run.gzip, half):
        out.add_row(f"  {phase.name}: tower writer", _writer(phase), "", "")
    return out


def figures(run: IngestRun) -> dict[str, Any]:
    """Every figure of the run, for benchmarks/out/ingest.json."""
    return {
        "setup": {
            "events": run.setup.events,
            "batch_size": run.setup.batch_size,
            "clients": run.setup.clients,
            "events_file": str(run.events_path),
            "events_file_bytes": run.events_path.stat().st_size,
            "cpus": os.cpu_count(),
            "load_average_at_start": run.load_at_start,
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "ceiling": {
            "events_per_second": run.ceiling.events_per_second,
            "seconds": run.ceiling.seconds,
            "all_seconds": list(run.ceiling.all_seconds),
        },
        "max_rate": {"plain": _phase(run.plain), "gzip": _phase(run.gzip)},
        "chosen_encoding": "gzip" if run.best.gzip else "plain",
        "tower_events_per_second": run.best.events_per_second,
        "ratio": run.ratio,
        "half_rate": _phase(run.half),
        "goals": {"ratio_at_least": RATIO_GOAL, "half_rate_p99_ms_at_most": P99_GOAL_MS},
        "goals_met": goals_met(run),
    }


def _phase(phase: Phase) -> dict[str, Any]:
    return {
        "gzip": phase.gzip,
        "offered_events_per_second": phase.offered,
        "events_per_second": phase.events_per_second,
        "seconds": phase.seconds,
        "accepted": phase.accepted,
        "duplicates": phase.duplicates,
        "rejected": phase.rejected,
        "stored": phase.stored,
        "requests": len(phase.latencies),
        "ack_ms": {
            "p50": phase.latency_ms(0.5),
            "p90": phase.latency_ms(0.9),
            "p99": phase.latency_ms(0.99),
            "max": phase.latency_ms(1.0),
        },
        "busy_retries": phase.busy_retries,
        "max_behind_schedule_s": phase.max_behind,
        "commits": {
            "count": phase.commits.count,
            "events": phase.commits.events,
            "seconds": phase.commits.seconds,
        },
    }


def _rate(events_per_second: float) -> str:
    return f"{events_per_second:,.0f} events/s"


def _latency(phase: Phase) -> str:
    return f"{phase.latency_ms(0.5):,.0f} / {phase.latency_ms(0.99):,.0f} ms"


def _writer(phase: Phase) -> str:
    commits = phase.commits
    if not commits.count:
        return "no commits"
    busy = commits.seconds / phase.seconds
    return (
        f"{commits.count} commits, {commits.events / commits.count:,.0f} events"
        f" and {1000 * commits.seconds / commits.count:,.0f} ms each, busy {busy:.0%}"
    )


def _mark(ok: bool) -> str:
    return "[green]PASS" if ok else "[red]FAIL"
