"""Reads over stored spans, for the API and a journey's timeline."""

from __future__ import annotations

from typing import Any

import orjson

from tower.db import Store, load_queries

__all__ = ["spans_for_key", "trace_spans"]

SQL = load_queries("collector")
JSON_COLUMNS = ("attributes", "events", "links", "resource", "scope_attributes")


def trace_spans(*, store: Store, trace_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Every span of one trace, in start order."""
    rows = store.query(
        SQL["trace_spans"], {"trace_id": trace_id, "limit": limit}, doing="reading a trace"
    )
    return _decoded(rows)


def spans_for_key(
    *, store: Store, key: str, namespace: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Spans whose derived events carry this key value, in start order."""
    params = {"key": key, "namespace": namespace, "limit": limit}
    return _decoded(store.query(SQL["spans_by_key"], params, doing="finding spans by key"))


def _decoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        for column in JSON_COLUMNS:
            row[column] = orjson.loads(row[column])
    return rows
