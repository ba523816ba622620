"""The single writer: a bounded queue of validated batches and one thread that group-commits.

Each request puts its batch on the queue and awaits a future; the thread drains whatever is
waiting, stores it in one DuckDB transaction, and only then resolves the futures. So an answer
of 200 means committed (DuckDB syncs its WAL at commit), and a full queue answers 429 instead of
buffering without bound.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import pyarrow as pa

from collector.exceptions import WriterBusy, WriterStopped
from collector.ingest import ValidatedBatch
from tower.db import Store, load_queries, split_statements

__all__ = ["BatchOutcome", "CommitStats", "Writer"]

log = logging.getLogger(__name__)
SQL = load_queries("collector")
COMMIT_EVENTS = split_statements(SQL["commit_events"])


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one submitted batch became once committed."""

    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class CommitStats:
    """One group commit, for metrics."""

    batches: int
    events: int
    accepted: int
    seconds: float


@dataclass(slots=True)
class _Pending:
    batch: ValidatedBatch
    request_id: str
    future: Future[BatchOutcome] = field(default_factory=Future)

    @property
    def weight(self) -> int:
        return max(self.batch.items, 1)


class Writer:
    """Owns every write of events and rejects. start() once, stop() at shutdown."""

    def __init__(
        self,
        store: Store,
        *,
        max_queued_events: int,
        max_commit_events: int,
        retry_after_seconds: int = 1,
        on_commit: Callable[[CommitStats], None] | None = None,
    ) -> None:
        self._store = store
        self.max_queued_events = max_queued_events
        self.retry_after_seconds = retry_after_seconds
        self._max_commit = max_commit_events
        self._on_commit = on_commit
        self._queue: deque[_Pending] = deque()
        self._queued_events = 0
        self._cond = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None
        self._last_seq = int(
            store.scalar("SELECT coalesce(max(seq), 0) FROM events", doing="reading last seq")
        )

    @property
    def queued_events(self) -> int:
        """Events waiting for commit."""
        return self._queued_events

    @property
    def last_seq(self) -> int:
        """The ingest sequence number of the newest committed event."""
        return self._last_seq

    @property
    def is_alive(self) -> bool:
        """True while the writer thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name="tower-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                # Closing the database under a running commit would be worse than waiting.
                log.error("writer still committing after %.0f s; waiting for it", timeout)
                self._thread.join()

    def submit(self, batch: ValidatedBatch, *, request_id: str) -> Future[BatchOutcome]:
        """Queue a batch for commit. Raises WriterBusy when the queue is full."""
        pending = _Pending(batch, request_id)
        with self._cond:
            if not self._running:
                raise WriterStopped("the writer is not running", headers=self._retry_headers())
            # An idle writer always takes one batch, so a batch larger than the whole queue
            # still gets in; memory stays bounded by queue size plus one body.
            if (
                self._queued_events
                and self._queued_events + pending.weight > self.max_queued_events
            ):
                raise WriterBusy(
                    f"ingest queue is full ({self._queued_events} events waiting); retry after "
                    f"{self.retry_after_seconds} s",
                    headers=self._retry_headers(),
                )
            self._queue.append(pending)
            self._queued_events += pending.weight
            self._cond.notify()
        return pending.future

    def _retry_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and self._running:
                    self._cond.wait()
                if not self._queue:
                    return  # stopped and drained
                group = [self._queue.popleft()]
                events = group[0].weight
                while self._queue and events + self._queue[0].weight <= self._max_commit:
                    events += self._queue[0].weight
                    group.append(self._queue.popleft())
            try:
                outcomes = self._commit(group)
            except Exception as exc:  # every waiter must hear about it, then carry on
                log.exception("group commit of %d batches failed", len(group))
                self._release(group)
                for pending in group:
                    pending.future.set_exception(exc)
                continue
            # Queue depth and metrics first: a client that reads them after its answer sees
            # its own batch done.
            self._release(group)
            for pending, outcome in zip(group, outcomes, strict=True):
                pending.future.set_result(outcome)

    def _release(self, group: list[_Pending]) -> None:
        with self._cond:
            self._queued_events -= sum(p.weight for p in group)

    def _commit(self, group: list[_Pending]) -> list[BatchOutcome]:
        started = time.perf_counter()
        events = _concat_events(group)
        rejects = _concat_rejects(group)
        counts: dict[int, tuple[int, int]] = {}
        with self._store.transaction(doing=f"committing {events.num_rows} events") as con:
            if events.num_rows:
                con.register("incoming", events)
                try:
                    for statement in COMMIT_EVENTS:
                        params = {"base_seq": self._last_seq} if "$base_seq" in statement else None
                        con.execute(statement, params)
                finally:
                    con.unregister("incoming")
                rows = con.execute(
                    "SELECT batch_no, count(*) FILTER (is_new), count(*) FILTER (NOT is_new),"
                    " max(seq) FROM staged GROUP BY batch_no"
                ).fetchall()
                counts = {int(b): (int(new), int(dup)) for b, new, dup, _ in rows}
                newest = max((int(s) for *_, s in rows if s is not None), default=None)
            else:
                newest = None
            if rejects.num_rows:
                con.register("refused", rejects)
                try:
                    con.execute(
                        "INSERT INTO event_rejects"
                        " (received_at, request_id, batch_index, line, reason, raw)"
                        " SELECT received_at, request_id, batch_index, line, reason, raw"
                        " FROM refused"
                    )
                finally:
                    con.unregister("refused")
        if newest is not None:
            self._last_seq = newest
        outcomes = [BatchOutcome(*counts.get(n, (0, 0))) for n in range(len(group))]
        if self._on_commit is not None:
            self._on_commit(
                CommitStats(
                    batches=len(group),
                    events=events.num_rows,
                    accepted=sum(o.accepted for o in outcomes),
                    seconds=time.perf_counter() - started,
                )
            )
        return outcomes


def _concat_events(group: list[_Pending]) -> pa.Table:
    tables = [
        p.batch.events.append_column(
            "batch_no", pa.array([n] * p.batch.events.num_rows, pa.int32())
        )
        for n, p in enumerate(group)
        if p.batch.events.num_rows
    ]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)


def _concat_rejects(group: list[_Pending]) -> pa.Table:
    tables = []
    for p in group:
        r = p.batch.rejects
        if r.num_rows:
            received = p.batch.received_at
            tables.append(
                r.append_column("request_id", pa.array([p.request_id] * r.num_rows)).append_column(
                    "received_at", pa.array([received] * r.num_rows, pa.timestamp("us", tz="UTC"))
                )
            )
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)
