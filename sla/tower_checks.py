"""Meta-alerts: SLAs on the tower itself, so a tower that fell behind says so.

One SLA kind, `tower`, with a `check`:

- correlator_lag: the oldest event not yet stitched has waited longer than `max_lag`;
- job_stale: a scheduled job has not succeeded for `missed_intervals` of its intervals (and at
  least `grace`);
- receiver_failing: an alert receiver's latest delivery attempt in `window` failed;
- reject_rate: more than `max_ratio` of the items received in `window` were rejected (judged
  from `min_items` items);
- disk_full: the database's disk has less than `min_free_ratio` (or `min_free_bytes`) free.

They read the same figures as GET /api/v1/health (tower/selfobs/readings.py) and go through the
same alert pipeline as every other SLA. Reading is here; judging is pure (`judge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sla.models import TowerSla
from tower.db import Store
from tower.durations import format_duration
from tower.selfobs import readings

if TYPE_CHECKING:
    from sla.rules import Breach

__all__ = ["TowerRow", "judge", "read"]


@dataclass(frozen=True, slots=True)
class TowerRow:
    """One figure of the tower about one subject (a job, a receiver, the disk...)."""

    check: str
    subject: str
    value: float
    limit: float  # the breach threshold, in the value's unit
    breached: bool
    summary: str


def read(*, store: Store, sla: TowerSla, now: datetime) -> list[TowerRow]:
    """The figures one check judges, with the SLA's thresholds applied."""
    match sla.check:
        case "correlator_lag":
            lag = readings.correlator_lag(store=store, now=now)
            limit = sla.max_lag.total_seconds()
            return [
                TowerRow(
                    sla.check,
                    "correlator",
                    lag.lag_seconds,
                    limit,
                    lag.lag_seconds > limit,
                    f"the correlator is {_took(lag.lag_seconds)} behind: {lag.waiting} events "
                    f"waiting (limit {format_duration(sla.max_lag)})",
                )
            ]
        case "job_stale":
            rows = []
            for job in readings.jobs(store=store):
                if sla.jobs is not None and job.name not in sla.jobs:
                    continue
                since = job.since_success(now)
                limit = max(sla.missed_intervals * job.interval_seconds, sla.grace.total_seconds())
                error = f"; last error: {job.last_error}" if job.last_error else ""
                rows.append(
                    TowerRow(
                        sla.check,
                        job.name,
                        since,
                        limit,
                        since > limit,
                        f"job {job.name} has not succeeded for {_took(since)} "
                        f"({since / job.interval_seconds:.0f} intervals of "
                        f"{_took(job.interval_seconds)}){error}",
                    )
                )
            return rows
        case "receiver_failing":
            return [
                TowerRow(
                    sla.check,
                    f"{r.receiver}/{r.integration}",
                    float(r.failures),
                    0.0,
                    r.failing,
                    f"receiver {r.receiver} ({r.integration}) fails: {r.failures} of "
                    f"{r.attempts} attempts in {format_duration(sla.window)} failed; last: "
                    f"{r.last_error}",
                )
                for r in readings.receivers(store=store, now=now, window=sla.window)
            ]
        case "reject_rate":
            counts = readings.reject_counts(store=store, now=now, window=sla.window)
            items = counts.events + counts.rejects
            return [
                TowerRow(
                    sla.check,
                    "collector",
                    counts.ratio,
                    sla.max_ratio,
                    items >= sla.min_items and counts.ratio > sla.max_ratio,
                    f"{counts.ratio:.1%} of {items} items in {format_duration(sla.window)} were "
                    f"rejected (limit {sla.max_ratio:.1%}); reasons: GET /api/v1/rejects",
                )
            ]
        case "disk_full":
            disk = readings.storage(store=store)
            low_bytes = sla.min_free_bytes is not None and disk.disk_free_bytes < sla.min_free_bytes
            return [
                TowerRow(
                    sla.check,
                    "disk",
                    disk.free_ratio,
                    sla.min_free_ratio,
                    disk.free_ratio < sla.min_free_ratio or low_bytes,
                    f"the disk holding {store.path} has {disk.disk_free_bytes / 2**30:.2f} GiB "
                    f"({disk.free_ratio:.1%}) free (floor {sla.min_free_ratio:.0%}"
                    + (f", {sla.min_free_bytes / 2**30:.2f} GiB)" if sla.min_free_bytes else ")")
                    + f"; the database takes {disk.db_bytes / 2**30:.2f} GiB",
                )
            ]
    raise ValueError(f"unknown tower check {sla.check}")  # pragma: no cover (Literal)


def judge(sla: TowerSla, row: TowerRow) -> Breach | None:
    """A breach for a row over its threshold (pure)."""
    from sla.rules import _breach  # rules dispatches here: import it when judging, not loading

    if not row.breached:
        return None
    subject = {"correlator_lag": "part", "job_stale": "job", "receiver_failing": "receiver"}
    dims = {subject.get(row.check, "part"): row.subject, "check": row.check}
    return _breach(sla, dims, summary=row.summary, value=row.value, threshold=row.limit)


def _took(seconds: float) -> str:
    return format_duration(timedelta(seconds=round(seconds)))
