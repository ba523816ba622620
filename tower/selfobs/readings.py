"""Reads of the tower's own state from its store: correlator lag, jobs, receivers, rejects, disk.

The health endpoint, the meta-alert SLAs (sla/tower_checks.py), the metrics and the history
sampler all read through these, so they always agree on a figure.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from tower.db import Store, load_queries, split_statements

__all__ = [
    "CorrelatorLag",
    "JobState",
    "ReceiverState",
    "RejectCounts",
    "StorageState",
    "correlator_lag",
    "jobs",
    "receivers",
    "reject_counts",
    "storage",
]

SQL = load_queries("tower.selfobs")
RECORD_SAMPLES = split_statements(SQL["record_samples"])


@dataclass(frozen=True, slots=True)
class CorrelatorLag:
    """How far the correlator is behind ingest."""

    watermark: int
    waiting: int  # events stored but not yet stitched
    oldest_waiting_at: datetime | None
    newest_stitched_at: datetime | None
    lag_seconds: float  # how long the oldest waiting event has waited; 0 when caught up


@dataclass(frozen=True, slots=True)
class JobState:
    """One scheduled job as its last runs left it."""

    name: str
    interval_seconds: float
    registered_at: datetime
    last_started: datetime | None
    last_finished: datetime | None
    last_success: datetime | None
    last_duration: float | None
    runs: int
    failures: int
    last_error: str | None

    def since_success(self, now: datetime) -> float:
        """Seconds since the last success, or since this process scheduled it if that is later.

        A restart after a long stop gives each job its intervals before it counts as stale.
        """
        since = max(self.registered_at, self.last_success or self.registered_at)
        return max((now - since).total_seconds(), 0.0)

    def missed_intervals(self, now: datetime) -> float:
        """Intervals gone by without a success."""
        return self.since_success(now) / self.interval_seconds if self.interval_seconds else 0.0


@dataclass(frozen=True, slots=True)
class ReceiverState:
    """One receiver integration's deliveries."""

    receiver: str
    integration: str
    last_attempt: datetime
    last_success: datetime | None
    last_ok: bool
    last_error: str | None
    attempts: int  # in the window asked for
    failures: int  # in the window asked for

    @property
    def failing(self) -> bool:
        """Its latest attempt in the window failed."""
        return self.attempts > 0 and not self.last_ok


@dataclass(frozen=True, slots=True)
class RejectCounts:
    events: int
    rejects: int

    @property
    def ratio(self) -> float:
        """Rejected share of the items received; 0 when nothing came."""
        total = self.events + self.rejects
        return self.rejects / total if total else 0.0


@dataclass(frozen=True, slots=True)
class StorageState:
    db_bytes: int  # the database file and its write-ahead log
    wal_bytes: int
    disk_total_bytes: int
    disk_free_bytes: int

    @property
    def free_ratio(self) -> float:
        return self.disk_free_bytes / self.disk_total_bytes if self.disk_total_bytes else 1.0


def correlator_lag(*, store: Store, now: datetime) -> CorrelatorLag:
    """Events waiting for the correlator and how long the oldest has waited."""
    rows = store.query(SQL["correlator_lag"], doing="reading the correlator's lag")
    row = rows[0] if rows else {}
    oldest = row.get("oldest_waiting_at")
    lag = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return CorrelatorLag(
        watermark=int(row.get("watermark") or 0),
        waiting=int(row.get("waiting") or 0),
        oldest_waiting_at=oldest,
        newest_stitched_at=row.get("newest_stitched_at"),
        lag_seconds=lag,
    )


def jobs(*, store: Store) -> list[JobState]:
    """Every job the scheduler has run or registered, by name."""
    rows = store.query(SQL["jobs"], doing="reading the scheduled jobs' state")
    return [JobState(**row) for row in rows]


def receivers(*, store: Store, now: datetime, window: timedelta) -> list[ReceiverState]:
    """Every receiver integration that has attempted a delivery, with the window's failures."""
    rows = store.query(
        SQL["receivers"], {"now": now, "since": now - window}, doing="reading delivery attempts"
    )
    return [ReceiverState(**row) for row in rows]


def reject_counts(*, store: Store, now: datetime, window: timedelta) -> RejectCounts:
    """Events stored and items refused in the window before `now`."""
    rows = store.query(
        SQL["reject_counts"], {"now": now, "since": now - window}, doing="counting rejects"
    )
    return RejectCounts(events=int(rows[0]["events"]), rejects=int(rows[0]["rejects"]))


def storage(*, store: Store) -> StorageState:
    """The database's size on disk and the free space of its file system."""
    try:
        size = store.path.stat().st_size
    except FileNotFoundError:
        size = 0
    wal = store.wal_bytes()
    usage = shutil.disk_usage(store.path.parent)
    return StorageState(
        db_bytes=size + wal,
        wal_bytes=wal,
        disk_total_bytes=usage.total,
        disk_free_bytes=usage.free,
    )
