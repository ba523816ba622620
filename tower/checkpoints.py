"""When to fold the WAL into the database file: in ingest's quiet moments, or when it must.

A DuckDB checkpoint blocks every commit until it is done, and it costs about as much CPU per
event as validating and committing it (it compresses whole row groups: measured 10-20 us per
event; a 64 MiB WAL takes one to four seconds). Taken in the middle of sustained ingest, it
stalls every waiting request for that long. So, like PostgreSQL's max_wal_size, the tower lets
the WAL grow while ingest is busy and checkpoints once the writer has had nothing to commit for
a moment; only a WAL past the hard limit is checkpointed regardless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tower.db import Store
from tower.exceptions import StorageError

__all__ = ["CheckpointPolicy", "checkpoint_job"]

log = logging.getLogger(__name__)
# DuckDB's refusal while another connection has a write transaction open; not a failure.
BUSY = "other write transactions active"


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Soft limit (checkpoint when quiet), hard limit (checkpoint now), and what quiet means."""

    wal_bytes: int
    wal_max_bytes: int
    quiet_seconds: float

    def due(self, *, wal_bytes: int, idle_seconds: float) -> bool:
        """Whether a WAL of `wal_bytes`, with no commit for `idle_seconds`, should be folded."""
        if wal_bytes >= self.wal_max_bytes:
            return True
        return wal_bytes >= self.wal_bytes and idle_seconds >= self.quiet_seconds


def checkpoint_job(
    store: Store, policy: CheckpointPolicy, idle_seconds: Callable[[], float]
) -> None:
    """The scheduled job: checkpoint if the policy says so (a failure is retried next run)."""
    wal = store.wal_bytes()
    idle = idle_seconds()
    if not policy.due(wal_bytes=wal, idle_seconds=idle):
        return
    try:
        store.checkpoint()
    except StorageError as exc:
        if BUSY in str(exc):  # the correlator or a job is mid-transaction: next second, then
            log.info("checkpoint deferred: another write transaction is running")
            return
        log.warning("background checkpoint failed; will retry", exc_info=True)
        raise  # for the job's record (tower/selfobs/jobs.py): health counts failed runs
    reason = "over the hard limit" if wal >= policy.wal_max_bytes else f"ingest idle {idle:.0f} s"
    log.info("checkpointed %d MB of WAL into %s (%s)", wal // 2**20, store.path, reason)
