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

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from collector.exceptions import WriterBusy, WriterStopped
from collector.ingest import ValidatedBatch
from collector.seen_ids import Hashes, SeenIds
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
        self._committing = False
        self._last_commit = time.monotonic()
        self._last_seq = int(
            store.scalar("SELECT coalesce(max(seq), 0) FROM events", doing="reading last seq")
        )
        self._seen = _load_seen_ids(store)

    @property
    def queued_events(self) -> int:
        """Events waiting for commit."""
        return self._queued_events

    @property
    def last_seq(self) -> int:
        """The ingest sequence number of the newest committed event."""
        return self._last_seq

    @property
    def idle_seconds(self) -> float:
        """Seconds since the last commit ended; 0 while one runs or batches wait."""
        if self._committing or self._queue:
            return 0.0
        return time.monotonic() - self._last_commit

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
                self._committing = True
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
            self._committing = False
            self._last_commit = time.monotonic()

    def _commit(self, group: list[_Pending]) -> list[BatchOutcome]:
        started = time.perf_counter()
        events = _concat_events(group)
        rejects = _concat_rejects(group)
        accepted = np.zeros(len(group), dtype=np.int64)
        duplicates = np.zeros(len(group), dtype=np.int64)
        added: Hashes | None = None
        with self._store.transaction(doing=f"committing {events.num_rows} events") as con:
            if events.num_rows:
                staged, new_hashes = self._stage(con, events)
                batch_no = events["batch_no"].to_numpy()
                accepted = np.bincount(staged["batch_no"].to_numpy(), minlength=len(group)).astype(
                    np.int64
                )
                duplicates = np.bincount(batch_no, minlength=len(group)) - accepted
                if staged.num_rows:
                    con.register("staged", staged)
                    con.register("staged_keys", _staged_keys(group, staged))
                    try:
                        for statement in COMMIT_EVENTS:
                            con.execute(statement)
                    finally:
                        con.unregister("staged")
                        con.unregister("staged_keys")
                    added = new_hashes
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
        if added is not None:
            self._seen.add(added)
            self._last_seq += len(added)
        outcomes = [BatchOutcome(int(a), int(d)) for a, d in zip(accepted, duplicates, strict=True)]
        if self._on_commit is not None:
            self._on_commit(
                CommitStats(
                    batches=len(group),
                    events=events.num_rows,
                    accepted=int(accepted.sum()),
                    seconds=time.perf_counter() - started,
                )
            )
        return outcomes

    def _stage(self, con: duckdb.DuckDBPyConnection, events: pa.Table) -> tuple[pa.Table, Hashes]:
        """The group's new events numbered in commit order, and their id hashes.

        New means the first copy in the group (by batch, then position) of an id the store
        does not hold yet. The in-memory set rules out almost every id; the few it may have
        seen are checked exactly in the store.
        """
        con.register("incoming", events)
        try:
            hashes: Hashes = (
                con.execute("SELECT hash(event_id) AS id_hash FROM incoming")
                .to_arrow_table()
                .column(0)
                .to_numpy()
            )
        finally:
            con.unregister("incoming")
        event_ids = events["event_id"]
        fresh = _first_copies(event_ids, hashes)
        maybe = fresh & self._seen.contains(hashes)
        if maybe.any():
            fresh &= ~_stored(con, event_ids, hashes, maybe)
        positions = np.flatnonzero(fresh)
        staged = events.take(positions)
        seq = self._last_seq + 1 + np.arange(len(positions), dtype=np.int64)
        new_hashes = hashes[positions]
        staged = staged.append_column("seq", pa.array(seq)).append_column(
            "id_hash", pa.array(new_hashes)
        )
        return staged, new_hashes


def _first_copies(event_ids: pa.ChunkedArray, hashes: Hashes) -> npt.NDArray[np.bool_]:
    """For each row, whether no earlier row of the group carries the same event_id."""
    first = np.ones(len(hashes), dtype=bool)
    order = np.argsort(hashes, kind="stable")
    repeated = np.zeros(len(hashes), dtype=bool)
    same = hashes[order[1:]] == hashes[order[:-1]]
    repeated[order[1:][same]] = True
    repeated[order[:-1][same]] = True
    if repeated.any():  # equal hashes: compare the ids themselves (hashes can collide)
        rows = np.flatnonzero(repeated)
        seen: set[str] = set()
        for row, event_id in zip(rows, event_ids.take(rows).to_pylist(), strict=True):
            if event_id in seen:
                first[row] = False
            seen.add(event_id)
    return first


def _stored(
    con: duckdb.DuckDBPyConnection,
    event_ids: pa.ChunkedArray,
    hashes: Hashes,
    rows: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """For each row, whether its event is already in the store (checked only where `rows`)."""
    positions = np.flatnonzero(rows)
    candidates = pa.table(
        {"event_id": event_ids.take(positions), "id_hash": pa.array(hashes[positions])}
    )
    con.register("candidates", candidates)
    try:
        held = con.execute(SQL["stored_ids"]).to_arrow_table()["event_id"]
    finally:
        con.unregister("candidates")
    return np.asarray(pc.is_in(event_ids, value_set=held).to_numpy(zero_copy_only=False), bool)


def _load_seen_ids(store: Store) -> SeenIds:
    started = time.perf_counter()
    stored = store.query_arrow("SELECT id_hash FROM events", doing="loading stored event ids")
    seen = SeenIds(stored.column(0).to_numpy() if stored.num_rows else None)
    log.info("loaded %d stored event ids in %.2f s", len(seen), time.perf_counter() - started)
    return seen


def _concat_events(group: list[_Pending]) -> pa.Table:
    """The group's events in commit order: by batch, then by position in the batch."""
    tables = [
        p.batch.events.sort_by("idx").append_column(
            "batch_no", pa.array(np.full(p.batch.events.num_rows, n, np.int32))
        )
        for n, p in enumerate(group)
        if p.batch.events.num_rows
    ]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)


def _staged_keys(group: list[_Pending], staged: pa.Table) -> pa.Table:
    """The key rows of the staged events, each with its event's seq."""
    keys = pa.concat_tables(
        p.batch.key_rows.append_column(
            "batch_no", pa.array(np.full(p.batch.key_rows.num_rows, n, np.int32))
        )
        for n, p in enumerate(group)
    )
    # (batch, position) as one sortable number; staged is in that order already.
    held = _batch_position(staged)
    wanted = _batch_position(keys)
    at = np.minimum(np.searchsorted(held, wanted), len(held) - 1)
    new = held[at] == wanted
    seq = staged["seq"].to_numpy()[at[new]]
    return keys.filter(pa.array(new)).append_column("seq", pa.array(seq))


def _batch_position(table: pa.Table) -> npt.NDArray[np.int64]:
    batch_no = table["batch_no"].to_numpy().astype(np.int64)
    position: npt.NDArray[np.int64] = (batch_no << 32) | table["idx"].to_numpy().astype(np.int64)
    return position


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
