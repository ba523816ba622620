"""Reads over stored events and rejects, for the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tower.db import Store, load_queries
from tower.retention.search import archived_events, merge_newest_first

__all__ = ["count_events", "list_events", "list_rejects"]

SQL = load_queries("collector")

MAX_PAGE = 1000


def count_events(*, store: Store) -> int:
    """How many events are stored."""
    return int(store.scalar("SELECT count(*) FROM events", doing="counting events"))


def list_events(
    *,
    store: Store,
    key: str | None = None,
    namespace: str | None = None,
    include_related: bool = False,
    type: str | None = None,
    source: str | None = None,
    system: str | None = None,
    facility: str | None = None,
    object_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
    archive_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Events matching every given filter, newest committed first; and the next page's cursor.

    With `archive_dir`, events the retention job moved to Parquet are searched too.
    """
    params = {
        "key": key,
        "namespace": namespace,
        "include_related": include_related,
        "type": type,
        "source": source,
        "system": system,
        "facility": facility,
        "object_type": object_type,
        "since": since,
        "until": until,
        "before_seq": before_seq,
        "limit": limit + 1,
    }
    rows = store.query(SQL["list_events"], params, doing="listing events")
    if archive_dir is not None:
        rows = merge_newest_first(rows, archived_events(store, archive_dir, params), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        for column in ("keys", "attributes", "related"):
            row[column] = orjson.loads(row[column])
    return rows, (rows[-1]["seq"] if more else None)


def list_rejects(
    *, store: Store, before_id: int | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """Refused items, newest first; and the next page's cursor."""
    rows = store.query(
        SQL["list_rejects"], {"before_id": before_id, "limit": limit + 1}, doing="listing rejects"
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["reject_id"] if more else None)
