"""Spans, log records and metric points as Arrow tables, the shape of their DuckDB tables.

Pure conversion; collector.telemetry inserts the tables in bulk (INSERT ... BY NAME).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from adapters.records import LogRecord, MetricPoint, Scope, Span

__all__ = ["log_records_table", "metric_points_table", "spans_table"]

TIME = pa.timestamp("ns", tz="UTC")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class _Scopes:
    """Serialise each scope once, however many records share it."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[str, str]] = {}

    def __call__(self, scope: Scope) -> tuple[str, str]:
        found = self._seen.get(id(scope))
        if found is None:
            found = (_json(scope.resource), _json(scope.attributes))
            self._seen[id(scope)] = found
        return found


def _common(
    records: Sequence[Span | LogRecord | MetricPoint], *, received_at: datetime, request_id: str
) -> dict[str, pa.Array]:
    scopes = _Scopes()
    serialised = [scopes(r.scope) for r in records]
    n = len(records)
    return {
        "resource": pa.array([s[0] for s in serialised], pa.string()),
        "scope_name": pa.array([r.scope.name for r in records], pa.string()),
        "scope_version": pa.array([r.scope.version for r in records], pa.string()),
        "scope_attributes": pa.array([s[1] for s in serialised], pa.string()),
        "received_at": pa.array([received_at] * n, pa.timestamp("us", tz="UTC")),
        "request_id": pa.array([request_id] * n, pa.string()),
    }


def _times(values: Sequence[int | None]) -> pa.Array:
    return pa.array([v or None for v in values], pa.int64()).cast(TIME)


def _column(records: Sequence[Any], get: Callable[[Any], Any], kind: pa.DataType) -> pa.Array:
    return pa.array([get(r) for r in records], kind)


def spans_table(
    spans: Sequence[Span], derived: Sequence[str | None], *, received_at: datetime, request_id: str
) -> pa.Table:
    """One row per span."""
    durations = [(s.end_ns - s.start_ns) / 1e6 if s.start_ns and s.end_ns else None for s in spans]
    columns = {
        "trace_id": _column(spans, lambda s: s.trace_id, pa.string()),
        "span_id": _column(spans, lambda s: s.span_id, pa.string()),
        "parent_span_id": _column(spans, lambda s: s.parent_span_id, pa.string()),
        "trace_state": _column(spans, lambda s: s.trace_state, pa.string()),
        "flags": _column(spans, lambda s: s.flags, pa.uint32()),
        "name": _column(spans, lambda s: s.name, pa.string()),
        "kind": _column(spans, lambda s: s.kind, pa.string()),
        "start_time": _times([s.start_ns for s in spans]),
        "end_time": _times([s.end_ns for s in spans]),
        "duration_ms": pa.array(durations, pa.float64()),
        "status_code": _column(spans, lambda s: s.status_code, pa.string()),
        "status_message": _column(spans, lambda s: s.status_message, pa.string()),
        "service_name": _column(spans, lambda s: s.scope.service_name, pa.string()),
        "attributes": _column(spans, lambda s: _json(s.attributes), pa.string()),
        "events": _column(spans, lambda s: _json(s.events), pa.string()),
        "links": _column(spans, lambda s: _json(s.links), pa.string()),
        "derived_event_id": pa.array(list(derived), pa.string()),
    }
    columns.update(_common(spans, received_at=received_at, request_id=request_id))
    return pa.table(columns)


def log_records_table(
    records: Sequence[LogRecord],
    derived: Sequence[str | None],
    *,
    received_at: datetime,
    request_id: str,
) -> pa.Table:
    """One row per log record; a record without a time takes its observed or received time."""
    received_ns = int(received_at.timestamp()) * 10**9 + received_at.microsecond * 1000
    columns = {
        "time": _times([r.time_ns or r.observed_ns or received_ns for r in records]),
        "observed_time": _times([r.observed_ns for r in records]),
        "source": _column(records, lambda r: r.source, pa.string()),
        "severity_number": _column(records, lambda r: r.severity_number, pa.int32()),
        "severity_text": _column(records, lambda r: r.severity_text, pa.string()),
        "body": _column(
            records,
            lambda r: r.body if isinstance(r.body, str) or r.body is None else _json(r.body),
            pa.string(),
        ),
        "event_name": _column(records, lambda r: r.event_name, pa.string()),
        "trace_id": _column(records, lambda r: r.trace_id, pa.string()),
        "span_id": _column(records, lambda r: r.span_id, pa.string()),
        "keys": _column(records, lambda r: _json(r.keys), pa.string()),
        "extractor": _column(records, lambda r: r.extractor, pa.string()),
        "attributes": _column(records, lambda r: _json(r.attributes), pa.string()),
        "derived_event_id": pa.array(list(derived), pa.string()),
    }
    columns.update(_common(records, received_at=received_at, request_id=request_id))
    return pa.table(columns)


def metric_points_table(
    points: Sequence[MetricPoint], *, received_at: datetime, request_id: str
) -> pa.Table:
    """One row per data point."""
    columns = {
        "name": _column(points, lambda p: p.name, pa.string()),
        "kind": _column(points, lambda p: p.kind, pa.string()),
        "time": _times([p.time_ns for p in points]),
        "start_time": _times([p.start_ns for p in points]),
        "value": _column(points, lambda p: p.value, pa.float64()),
        "description": _column(points, lambda p: p.description, pa.string()),
        "unit": _column(points, lambda p: p.unit, pa.string()),
        "data": _column(points, lambda p: _json(p.data), pa.string()),
        "attributes": _column(points, lambda p: _json(p.attributes), pa.string()),
        "service_name": _column(points, lambda p: p.scope.service_name, pa.string()),
    }
    columns.update(_common(points, received_at=received_at, request_id=request_id))
    return pa.table(columns)
