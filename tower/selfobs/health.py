"""Health beyond "up": each part of the tower with its lag, its last success, and a verdict.

`Monitor.health(now)` is what `GET /api/v1/health` and `tower status` show; `Monitor.figures(now)`
is the snapshot the metrics and the history sampler read. Parts:

- writer: the ingest thread runs; its queue and last commit.
- correlator: events waiting and how long the oldest has waited (failing above a threshold).
- jobs: each scheduled job's last success (failing after N intervals without one).
- receivers: each alert receiver integration (failing when its latest attempt failed).
- storage: database size and the disk's free space (failing when nearly full).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from tower.db import Store
from tower.exceptions import StorageError
from tower.selfobs import readings

__all__ = ["Figures", "Health", "HealthPolicy", "Monitor", "Part", "WriterLike"]

Status = Literal["ok", "failing"]


class WriterLike(Protocol):
    """What health needs of the collector's writer (kept abstract: the kernel knows no domain)."""

    @property
    def is_alive(self) -> bool: ...

    @property
    def queued_events(self) -> int: ...

    @property
    def last_seq(self) -> int: ...


class Part(BaseModel):
    """One part of the tower."""

    name: str = Field(description="writer, correlator, job:<id>, receiver:<name>/<kind>, storage")
    status: Status
    reason: str | None = Field(default=None, description="Why it is failing, in a sentence.")
    lag_seconds: float | None = Field(
        default=None, description="How far behind it is, if it can lag."
    )
    last_success: datetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Health(BaseModel):
    """The whole tower: `ok` only when every part is."""

    status: str = Field(description="ok, or failing: <parts>")
    checked_at: datetime
    schema_version: int
    events: int
    last_seq: int
    writer_queue_events: int
    parts: list[Part]


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """Thresholds that turn a figure into a failing part (from settings)."""

    correlator_max_lag: timedelta = timedelta(minutes=5)
    job_missed_intervals: int = 3
    job_grace: timedelta = timedelta(minutes=1)
    min_disk_free_ratio: float = 0.05
    receiver_window: timedelta = timedelta(minutes=15)

    def job_deadline(self, interval_seconds: float) -> float:
        """Seconds without a success after which a job counts as failing."""
        return max(self.job_missed_intervals * interval_seconds, self.job_grace.total_seconds())


@dataclass(frozen=True, slots=True)
class Figures:
    """The tower's own figures at one moment (metrics, history, the Tower panel)."""

    at: datetime
    events: int
    rejects: int
    writer_queue_events: int
    correlator_lag_seconds: float
    correlator_events_waiting: int
    db_bytes: int
    disk_free_bytes: int
    disk_free_ratio: float
    notification_failures: int
    job_seconds_since_success: dict[str, float]
    job_last_duration: dict[str, float]

    def as_samples(self) -> dict[str, float]:
        """Flat metric name -> value, as the history table keeps them."""
        flat = {
            "events": float(self.events),
            "rejects": float(self.rejects),
            "writer_queue_events": float(self.writer_queue_events),
            "correlator_lag_seconds": self.correlator_lag_seconds,
            "correlator_events_waiting": float(self.correlator_events_waiting),
            "db_bytes": float(self.db_bytes),
            "disk_free_ratio": self.disk_free_ratio,
            "notification_failures": float(self.notification_failures),
        }
        flat |= {f"job_duration_seconds:{k}": v for k, v in self.job_last_duration.items()}
        return flat


COUNTS = """
SELECT (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM event_rejects) AS rejects,
       (SELECT count(*) FROM delivery_attempts WHERE NOT ok) AS notification_failures
"""


class Monitor:
    """Reads every part's state; shared by the health route, the metrics and the sampler."""

    def __init__(self, *, store: Store, writer: WriterLike, policy: HealthPolicy) -> None:
        self.store = store
        self.writer = writer
        self.policy = policy
        self._lock = threading.Lock()
        self._last_commit: datetime | None = None

    def committed(self, at: datetime) -> None:
        """The writer finished a group commit at `at`."""
        with self._lock:
            self._last_commit = at

    def figures(self, *, now: datetime) -> Figures:
        """Every figure at `now`, read in a handful of small queries."""
        counts = self.store.query(COUNTS, doing="counting for the tower's figures")[0]
        lag = readings.correlator_lag(store=self.store, now=now)
        disk = readings.storage(store=self.store)
        jobs = readings.jobs(store=self.store)
        return Figures(
            at=now,
            events=int(counts["events"]),
            rejects=int(counts["rejects"]),
            writer_queue_events=self.writer.queued_events,
            correlator_lag_seconds=lag.lag_seconds,
            correlator_events_waiting=lag.waiting,
            db_bytes=disk.db_bytes,
            disk_free_bytes=disk.disk_free_bytes,
            disk_free_ratio=disk.free_ratio,
            notification_failures=int(counts["notification_failures"]),
            job_seconds_since_success={j.name: j.since_success(now) for j in jobs},
            job_last_duration={j.name: j.last_duration or 0.0 for j in jobs},
        )

    def health(
        self, *, now: datetime, schema_version: int, scheduler_running: bool | None = None
    ) -> Health:
        """Each part's verdict at `now` (`scheduler_running`: None where no scheduler runs)."""
        parts = [self._writer()]
        if scheduler_running is False:
            parts.append(
                Part(name="scheduler", status="failing", reason="the job scheduler is stopped")
            )
        try:
            events = int(self.store.scalar("SELECT count(*) FROM events", doing="counting events"))
            parts.append(self._correlator(now))
            parts += self._jobs(now)
            parts += self._receivers(now)
            parts.append(self._storage())
        except StorageError as exc:
            events = 0
            parts.append(Part(name="storage", status="failing", reason=exc.detail))
        failing = [p.name for p in parts if p.status == "failing"]
        return Health(
            status=f"failing: {', '.join(failing)}" if failing else "ok",
            checked_at=now,
            schema_version=schema_version,
            events=events,
            last_seq=self.writer.last_seq,
            writer_queue_events=self.writer.queued_events,
            parts=parts,
        )

    def _writer(self) -> Part:
        alive = self.writer.is_alive
        return Part(
            name="writer",
            status="ok" if alive else "failing",
            reason=None if alive else "the writer thread is not running: ingest answers 503",
            last_success=self._last_commit,
            detail={"queued_events": self.writer.queued_events, "last_seq": self.writer.last_seq},
        )

    def _correlator(self, now: datetime) -> Part:
        lag = readings.correlator_lag(store=self.store, now=now)
        limit = self.policy.correlator_max_lag.total_seconds()
        behind = lag.lag_seconds > limit
        return Part(
            name="correlator",
            status="failing" if behind else "ok",
            reason=(
                f"{lag.waiting} events waiting, the oldest for {lag.lag_seconds:.0f} s "
                f"(limit {limit:.0f} s)"
                if behind
                else None
            ),
            lag_seconds=lag.lag_seconds,
            last_success=lag.newest_stitched_at,
            detail={"events_waiting": lag.waiting, "watermark": lag.watermark},
        )

    def _jobs(self, now: datetime) -> list[Part]:
        parts = []
        for job in readings.jobs(store=self.store):
            since = job.since_success(now)
            deadline = self.policy.job_deadline(job.interval_seconds)
            stale = since > deadline
            never = "never succeeded" if job.last_success is None else "no success"
            parts.append(
                Part(
                    name=f"job:{job.name}",
                    status="failing" if stale else "ok",
                    reason=(
                        f"{never} for {since:.0f} s ({job.missed_intervals(now):.0f} intervals of "
                        f"{job.interval_seconds:g} s)"
                        + (f"; last error: {job.last_error}" if job.last_error else "")
                        if stale
                        else None
                    ),
                    lag_seconds=since,
                    last_success=job.last_success,
                    detail={
                        "interval_seconds": job.interval_seconds,
                        "runs": job.runs,
                        "failures": job.failures,
                        "last_duration_seconds": job.last_duration,
                        "last_error": job.last_error,
                    },
                )
            )
        return parts

    def _receivers(self, now: datetime) -> list[Part]:
        window = self.policy.receiver_window
        return [
            Part(
                name=f"receiver:{r.receiver}/{r.integration}",
                status="failing" if r.failing else "ok",
                reason=f"last delivery failed: {r.last_error}" if r.failing else None,
                lag_seconds=(now - r.last_success).total_seconds() if r.last_success else None,
                last_success=r.last_success,
                detail={"attempts": r.attempts, "failures": r.failures},
            )
            for r in readings.receivers(store=self.store, now=now, window=window)
        ]

    def _storage(self) -> Part:
        disk = readings.storage(store=self.store)
        full = disk.free_ratio < self.policy.min_disk_free_ratio
        return Part(
            name="storage",
            status="failing" if full else "ok",
            reason=(
                f"the disk holding {self.store.path} has {disk.free_ratio:.1%} free "
                f"(floor {self.policy.min_disk_free_ratio:.0%})"
                if full
                else None
            ),
            detail={
                "db_bytes": disk.db_bytes,
                "wal_bytes": disk.wal_bytes,
                "disk_free_bytes": disk.disk_free_bytes,
                "disk_free_ratio": round(disk.free_ratio, 4),
            },
        )
