"""Queue backlog and dead-letter growth feeding each facility.

Which facility a queue feeds is read from its name: a queue whose name holds a facility code
as a whole word (case-insensitive, `_` read as `-`), e.g. `orders.dc-east.in` or
`DC_EU/picks.dlq`, feeds that facility; a queue that names none (middleware shared by every
site) is shown as shared. See docs/dashboards.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from dashboards import queries
from tower.db import Store

__all__ = ["backlog", "facility_of", "growth"]


def _normal(text: str) -> str:
    return text.lower().replace("_", "-")


def facility_of(queue: str, facilities: Iterable[str]) -> str | None:
    """The facility a queue's name names (the longest code that matches), or None."""
    name = _normal(queue)
    for code in sorted(set(facilities), key=len, reverse=True):
        if code and re.search(rf"(?<![a-z0-9]){re.escape(_normal(code))}(?![a-z0-9])", name):
            return code
    return None


def backlog(
    *,
    store: Store,
    now: datetime,
    since: datetime,
    bucket: timedelta,
    facilities: Iterable[str],
    facility: str | None = None,
) -> list[dict[str, Any]]:
    """Depth per queue and bucket, each row with the facility the queue feeds ('' when it
    names none); with `facility`, that facility's queues and the shared ones."""
    rows = store.query(
        queries.statement("queue_backlog"),
        {"now": now, "since": since, "bucket": bucket},
        doing="reading the queue backlog",
    )
    known = list(facilities)
    fed: dict[str, str] = {}
    for row in rows:  # one row per queue and bucket: a few hundred, mapped once per queue
        queue = row["queue"]
        if queue not in fed:
            fed[queue] = facility_of(queue, known) or ""
        row["facility"] = fed[queue]
    if facility:
        rows = [row for row in rows if row["facility"] in (facility, "")]
    # named facilities first, in order, then the shared queues
    return sorted(rows, key=lambda r: (r["facility"] == "", r["facility"]))


def growth(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per facility and queue: depth now, its change over the period, and the oldest message;
    dead-letter queues first, then the fastest growing."""
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:  # rows come in bucket order per queue
        key = (row["facility"], row["broker"], row["vhost"], row["queue"])
        entry = found.get(key)
        if entry is None:
            found[key] = entry = {
                "facility": row["facility"],
                "broker": row["broker"],
                "vhost": row["vhost"],
                "queue": row["queue"],
                "dead_letter": row["dead_letter"],
                "first": row["depth"],
            }
        entry["depth"] = row["depth"]
        entry["oldest_age_seconds"] = row["oldest_age_seconds"]
    for entry in found.values():
        entry["growth"] = entry["depth"] - entry.pop("first")
    return sorted(
        found.values(),
        key=lambda e: (not e["dead_letter"], -e["growth"], -e["depth"], e["queue"]),
    )
