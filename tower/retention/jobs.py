"""The retention job: compact old raw data to Parquet, then delete it; delete old history.

One run per schedule (tower/app.py), serialised by a job lock. For each table with an archive
(events, spans, log records) the rows leave in two steps: the Parquet file is written first,
then the rows are deleted in one transaction; if the delete fails the file is removed, and a
crash between the two leaves rows in both places, which the archive search tolerates (live
rows win, tower/retention/search.py). Tables without an archive are deleted from directly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from tower.db import Store, load_queries, split_statements

__all__ = ["Policy", "RetentionReport", "run_once"]

log = logging.getLogger(__name__)
SQL = load_queries("tower.retention")

# table -> its time column, for tables whose rows are simply deleted when old
DELETE_ONLY = {
    "queue_samples": ("sampled_at", "queue_samples"),
    "event_rejects": ("received_at", "rejects"),
    "metric_points": ("received_at", "telemetry"),
    "alert_history": ("happened_at", "history"),
    "delivery_attempts": ("attempted_at", "history"),
}
# tables compacted to Parquet before their rows are deleted (events have their own rule)
ARCHIVED = {"spans": "telemetry", "log_records": "telemetry"}


@dataclass(frozen=True, slots=True)
class Policy:
    """How long each kind of data stays in the database."""

    events: timedelta
    telemetry: timedelta
    queue_samples: timedelta
    rejects: timedelta
    history: timedelta

    def keep(self, kind: str) -> timedelta:
        value: timedelta = getattr(self, kind)
        return value


@dataclass(slots=True)
class RetentionReport:
    archived: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def run_once(*, store: Store, policy: Policy, archive_dir: Path, now: datetime) -> RetentionReport:
    """Enforce the policy once. Safe to run at any time; does nothing when nothing is old."""
    started = time.perf_counter()
    report = RetentionReport()
    with store.job_lock("retention"):
        _events(store, now - policy.events, archive_dir / "events", now, report)
        for table, kind in ARCHIVED.items():
            _archived_table(store, table, now - policy.keep(kind), archive_dir / table, now, report)
        for table, (column, kind) in DELETE_ONLY.items():
            _delete_old(store, table, column, now - policy.keep(kind), report)
    report.seconds = time.perf_counter() - started
    if report.archived or report.deleted:
        log.info(
            "retention: archived %s, deleted %s in %.1f s",
            report.archived,
            report.deleted,
            report.seconds,
        )
    return report


def _events(
    store: Store, cutoff: datetime, folder: Path, now: datetime, report: RetentionReport
) -> None:
    with store.transaction(doing="choosing events to archive", lane="retention") as con:
        con.execute(SQL["retiring_events"], {"cutoff": cutoff})
        count = con.execute("SELECT count(*) FROM retiring").fetchall()[0][0]
        if not count:
            return
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"events-{now.strftime('%Y%m%dT%H%M%S')}-{count}.parquet"
        con.execute(SQL["archive_events"].replace("{path}", _quoted(path)))
        try:
            for statement in split_statements(SQL["drop_events"]):
                con.execute(statement)
        except BaseException:
            path.unlink(missing_ok=True)  # the transaction rolls back: the rows stay
            raise
    report.archived["events"] = int(count)
    report.files.append(path)


def _archived_table(
    store: Store, table: str, cutoff: datetime, folder: Path, now: datetime, report: RetentionReport
) -> None:
    old = f"FROM {table} WHERE received_at < CAST('{cutoff.isoformat()}' AS TIMESTAMPTZ)"
    with store.transaction(doing=f"archiving old {table}", lane="retention") as con:
        count = con.execute(f"SELECT count(*) {old}").fetchall()[0][0]
        if not count:
            return
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{table}-{now.strftime('%Y%m%dT%H%M%S')}-{count}.parquet"
        con.execute(
            f"COPY (SELECT * {old}) TO '{_quoted(path)}' (FORMAT parquet, COMPRESSION zstd)"
        )
        try:
            con.execute(f"DELETE {old}")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    report.archived[table] = int(count)
    report.files.append(path)


def _delete_old(
    store: Store, table: str, column: str, cutoff: datetime, report: RetentionReport
) -> None:
    with store.transaction(doing=f"deleting old {table}", lane="retention") as con:
        # DuckDB answers a DELETE with the number of rows it removed
        deleted = con.execute(
            f"DELETE FROM {table} WHERE {column} < $cutoff", {"cutoff": cutoff}
        ).fetchall()[0][0]
    if deleted:
        report.deleted[table] = int(deleted)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
