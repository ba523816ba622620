"""The ceiling: DuckDB's own read_ndjson of the events file into a fresh table of a fresh file.

The table has the canonical event's columns with the tower's types (JSON for keys, attributes
and related), so the ceiling parses and lands the same data the tower does, minus validation,
duplicate detection, key indexing and HTTP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

__all__ = ["Ceiling", "measure_ceiling"]

LOAD = """
CREATE TABLE events AS
SELECT * FROM read_ndjson($path, format = 'newline_delimited', columns = {
    event_id: 'VARCHAR', occurred_at: 'TIMESTAMPTZ', source: 'VARCHAR', system: 'VARCHAR',
    facility: 'VARCHAR', type: 'VARCHAR', object_type: 'VARCHAR', keys: 'JSON',
    correlation_id: 'VARCHAR', status: 'VARCHAR', error: 'VARCHAR', attributes: 'JSON',
    related: 'JSON'
})
"""


@dataclass(frozen=True, slots=True)
class Ceiling:
    """One load of the file: how many rows landed and how long until committed."""

    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


def measure_ceiling(events_path: Path, db_path: Path) -> Ceiling:
    """Load the file with read_ndjson into a new database; time from start to commit."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        con.execute(LOAD, {"path": str(events_path)})  # autocommit: returns once committed
        seconds = time.perf_counter() - started
        rows = con.execute("SELECT count(*) FROM events").fetchall()
    finally:
        con.close()
    return Ceiling(events=int(rows[0][0]), seconds=seconds)
