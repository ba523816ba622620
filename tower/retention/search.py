"""Searching the events archive: the Parquet files the retention job wrote, read in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tower.db import Store, load_queries

__all__ = ["archived_events", "merge_newest_first"]

SQL = load_queries("tower.retention")


def archived_events(
    store: Store, archive_dir: Path, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Archived events matching list_events' filters (same parameters), newest first."""
    files = sorted(str(p) for p in (archive_dir / "events").glob("*.parquet"))
    if not files:
        return []
    # The archive keeps key values without their namespaces: those two filters do not apply.
    used = {k: v for k, v in params.items() if k not in ("namespace", "include_related")}
    return store.query(
        SQL["archived_events"], {**used, "files": files}, doing="searching the events archive"
    )


def merge_newest_first(
    live: list[dict[str, Any]], archived: list[dict[str, Any]], limit: int
) -> list[dict[str, Any]]:
    """One page by seq, newest first; a row in both places (a crash mid-retention) once."""
    seen: set[int] = set()
    merged = []
    for row in sorted([*live, *archived], key=lambda r: r["seq"], reverse=True):
        if row["seq"] not in seen:
            seen.add(row["seq"])
            merged.append(row)
    return merged[:limit]
