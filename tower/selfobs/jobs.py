"""Scheduled jobs watched: each run's outcome is stored, and the tower's figures are sampled.

`JobTracker.run(name, fn)` wraps a scheduled job: it times the run, records start, end, success
or error in `tower_jobs` (so health, `tower status` and the meta-alerts see it, across restarts),
and reports the duration to the metrics. `sample_once` stores one row of figures per metric in
`tower_samples` for the on-call page's Tower panel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tower.clock import Clock
from tower.db import Store
from tower.exceptions import StorageError
from tower.selfobs.health import Monitor
from tower.selfobs.readings import RECORD_SAMPLES, SQL

__all__ = ["JobTracker", "sample_job", "sample_once", "watch_jobs"]

log = logging.getLogger(__name__)
LANE = "selfobs"
T = TypeVar("T")


class JobTracker:
    """Records every run of the scheduler's jobs."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        on_run: Callable[[str, float, bool], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_run = on_run

    def register(self, name: str, *, every: timedelta) -> None:
        """A job the scheduler runs every `every`; its staleness counts from now."""
        params = {"name": name, "interval_seconds": every.total_seconds(), "now": self._clock()}
        with self._store.transaction(doing=f"registering job {name}", lane=LANE) as con:
            con.execute(SQL["register_job"], params)

    def run(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run one job and record how it went; a failure is logged and recorded, not raised."""
        started = self._clock()
        began = time.perf_counter()
        error: str | None = None
        result: T | None = None
        try:
            result = fn(*args, **kwargs)
        except StorageError as exc:  # the job's own warning already says what will happen next
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # the scheduler used to log these; now they are also recorded
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s failed: %s", name, error)
        seconds = time.perf_counter() - began
        self.finished(name, started=started, seconds=seconds, error=error)
        return result

    def finished(
        self, name: str, *, started: datetime, seconds: float, error: str | None = None
    ) -> None:
        """Store one run's outcome (and tell the metrics)."""
        ok = error is None
        params = {
            "name": name,
            "started": started,
            "finished": self._clock(),
            "seconds": seconds,
            "ok": ok,
            "error": error,
        }
        try:
            with self._store.transaction(doing=f"recording a run of job {name}", lane=LANE) as con:
                con.execute(SQL["job_finished"], params)
        except StorageError:
            log.warning("could not record a run of job %s", name, exc_info=True)
        if self._on_run is not None:  # after the record: a metrics read then sees the run
            self._on_run(name, seconds, ok)


def sample_once(*, store: Store, monitor: Monitor, now: datetime, keep: timedelta) -> int:
    """Store the tower's figures at `now`, drop samples older than `keep`; how many stored."""
    samples = monitor.figures(now=now).as_samples()
    params = {
        "at": now,
        "metrics": list(samples),
        "values": list(samples.values()),
        "keep_after": now - keep,
    }
    with store.transaction(doing="storing the tower's own figures", lane=LANE) as con:
        for statement in RECORD_SAMPLES:
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
    return len(samples)


def sample_job(store: Store, monitor: Monitor, clock: Clock, keep: timedelta) -> None:
    """The scheduler's history job."""
    sample_once(store=store, monitor=monitor, now=clock(), keep=keep)


def watch_jobs(scheduler: BaseScheduler, tracker: JobTracker) -> None:
    """Route every interval job of a scheduler (not started yet) through the tracker."""
    for job in scheduler.get_jobs():
        if not isinstance(job.trigger, IntervalTrigger):
            continue
        tracker.register(job.id, every=job.trigger.interval)
        job.modify(func=tracker.run, args=[job.id, job.func, *job.args], kwargs=dict(job.kwargs))
