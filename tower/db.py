"""The only module that opens DuckDB: connections, migrations, checkpoints.

One writer connection belongs to the collector's writer thread; every other thread reads through
its own cursor. Every DuckDB error leaves this module as a StorageError that says what we were
doing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tower.exceptions import StorageError

__all__ = ["Store", "StorageError", "load_queries", "split_statements"]

log = logging.getLogger(__name__)

Params = Sequence[Any] | Mapping[str, Any] | None

# Automatic checkpoints run inline in whatever commit crosses the threshold; that cost lands on
# an ingest request's latency. Set it out of reach and let the background job checkpoint.
INLINE_CHECKPOINT_THRESHOLD = "16GB"


def load_queries(package: str) -> dict[str, str]:
    """Read every <name>.sql file of a package's sql/ folder, keyed by name."""
    folder = resources.files(package).joinpath("sql")
    return {
        entry.name.removesuffix(".sql"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }


def split_statements(script: str) -> list[str]:
    """The statements of a .sql file that holds several, each ending in ';' at a line end."""
    statements = []
    for part in script.split(";\n"):
        lines = [line for line in part.splitlines() if not line.strip().startswith("--")]
        statement = "\n".join(lines).strip().rstrip(";").strip()
        if statement:
            statements.append(statement)
    return statements


class Store:
    """The embedded DuckDB database. Open once per process; share between threads."""

    def __init__(
        self,
        path: Path,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "checkpoint_threshold": INLINE_CHECKPOINT_THRESHOLD
        }
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        try:
            self._con = duckdb.connect(str(self.path), config=config)
            self._con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
        self._local = threading.local()
        self._lanes: dict[str, tuple[duckdb.DuckDBPyConnection, threading.Lock]] = {}
        self._lanes_lock = threading.Lock()
        self._job_locks: dict[str, threading.Lock] = {}
        self.schema_version = self._migrate()

    # -- reading ---------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's own read cursor."""
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
        return cur

    def query(self, sql: str, params: Params = None, *, doing: str) -> list[dict[str, Any]]:
        """Rows as dicts. `doing` names the operation in any error."""
        # Through Arrow: fast, and time zones arrive as zoneinfo without needing pytz.
        rows: list[dict[str, Any]] = self.query_arrow(sql, params, doing=doing).to_pylist()
        return rows

    def query_arrow(self, sql: str, params: Params = None, *, doing: str) -> pa.Table:
        """Rows as an Arrow table (the fast path for bulk reads)."""
        try:
            return self.cursor().execute(sql, params).to_arrow_table()
        except duckdb.Error as exc:
            raise StorageError(f"{doing}: {exc}") from exc

    def scalar(self, sql: str, params: Params = None, *, doing: str) -> Any:
        """The first column of the first row, or None."""
        try:
            # fetchall, not fetchone: a result left half-read keeps its transaction open, and
            # an open transaction anywhere blocks every checkpoint.
            rows = self.cursor().execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise StorageError(f"{doing}: {exc}") from exc
        return rows[0][0] if rows else None

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def transaction(
        self, *, doing: str, lane: str = "ingest"
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside BEGIN ... COMMIT; rolled back on any error.

        Each lane (the ingest writer, the correlator, ...) has its own connection, so writers
        of different tables commit concurrently under DuckDB's MVCC; one lane is serial.
        """
        con, lock = self._lane(lane)
        with lock:
            try:
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    log.warning("rollback failed after %s", doing, exc_info=True)
                if isinstance(exc, duckdb.Error):
                    raise StorageError(f"{doing}: {exc}") from exc
                raise

    def _lane(self, lane: str) -> tuple[duckdb.DuckDBPyConnection, threading.Lock]:
        with self._lanes_lock:
            if lane not in self._lanes:
                con = self._con if lane == "ingest" else self._con.cursor()
                con.execute("SET TimeZone = 'UTC'")
                self._lanes[lane] = (con, threading.Lock())
            return self._lanes[lane]

    def job_lock(self, name: str) -> threading.Lock:
        """A lock per named job: one run at a time in this process, whoever calls it."""
        with self._lanes_lock:
            return self._job_locks.setdefault(name, threading.Lock())

    def wal_bytes(self) -> int:
        """Size of the write-ahead log not yet checkpointed into the database file."""
        wal = self.path.with_name(self.path.name + ".wal")
        try:
            return wal.stat().st_size
        except FileNotFoundError:
            return 0

    def checkpoint(self) -> None:
        """Fold the WAL into the database file. Runs off the request path."""
        try:
            self.cursor().execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise StorageError(f"checkpoint: {exc}") from exc

    def checkpoint_if_needed(self, *, wal_bytes: int) -> bool:
        """Checkpoint when the WAL has grown past `wal_bytes`; True when it did."""
        if self.wal_bytes() < wal_bytes:
            return False
        self.checkpoint()
        return True

    def close(self) -> None:
        """Checkpoint and close. Safe to call twice."""
        if self._con is None:
            return
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            log.warning("final checkpoint failed (%s); the WAL is replayed at next start", exc)
        self._con.close()
        self._con = None  # type: ignore[assignment]

    # -- migrations ------------------------------------------------------------------------

    def _migrate(self) -> int:
        """Apply, in order, every numbered migration not yet recorded; return the newest.

        Applied versions are a set, not a high-water mark: a migration numbered below one
        already applied (two branches that landed in the other order) still runs.
        """
        con = self._con
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
            )
            rows = con.execute("SELECT version FROM schema_migrations").fetchall()
        except duckdb.Error as exc:
            raise StorageError(f"reading the schema version of {self.path}: {exc}") from exc
        applied = {int(row[0]) for row in rows}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            log.info("applying migration %03d_%s", version, name)
            with self.transaction(doing=f"migration {version:03d}_{name}", lane="migrate") as tx:
                tx.execute(sql)
                tx.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
                )
            applied.add(version)
        return max(applied, default=0)


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("tower").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        stem = entry.name.removesuffix(".sql")
        if entry.name.endswith(".sql") and stem[:3].isdigit():
            found.append((int(stem[:3]), stem[4:], entry.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"two migrations share a number: {sorted(versions)}")
    return sorted(found)
