"""Reads over journeys for the API, the CLI and the dashboards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson

from correlator.search import IdForms, SearchSyntaxError, compile_query
from tower.db import Store, load_queries

__all__ = [
    "SORTS",
    "coverage",
    "inventory_drift",
    "inventory_lag",
    "journey_detail",
    "journey_spans",
    "list_journeys",
    "unlinked_events",
    "search_journeys",
]

SQL = load_queries("correlator")
MAX_PAGE = 500

# sort name -> a never-NULL SQL expression over `j`; the cursor is (that value, journey_id)
SORTS: dict[str, str] = {
    "last_event_at": "j.last_event_at",
    "started_at": "j.started_at",
    "stage_entered_at": "coalesce(j.stage_entered_at, j.started_at)",
    "value": "coalesce(j.value, -1e308)",
    "journey_id": "j.journey_id",
}
SUMMARY_COLUMNS = (
    "journey_id, kind, label, stage, status, state, stage_entered_at, started_at, "
    "last_event_at, next_stage, next_due_at, facility, customer, channel, value, currency, "
    "systems, event_count, anomaly_count, anomaly_kinds"
)


def search_journeys(
    *, store: Store, q: str, now: datetime, limit: int = 100, id_forms: IdForms | None = None
) -> list[dict[str, Any]]:
    """Journeys matching a search string (any ID, or the query language), newest first."""
    compiled = compile_query(q, id_forms=id_forms)
    sql = (
        f"WITH j AS ({SQL['journeys_now']}) SELECT {SUMMARY_COLUMNS} FROM j "
        f"WHERE {compiled.where} ORDER BY j.last_event_at DESC, j.journey_id DESC "
        "LIMIT $limit"
    )
    return store.query(
        sql, {**compiled.params, "now": now, "limit": limit}, doing="searching journeys"
    )


def list_journeys(
    *,
    store: Store,
    now: datetime,
    filters: dict[str, str | None],
    sort: str = "last_event_at",
    order: Literal["asc", "desc"] = "desc",
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of journeys with equality filters, sorted, with a cursor for the next page."""
    params: dict[str, Any] = {"now": now, "limit": limit + 1}
    conditions = []
    for name, value in filters.items():
        if value is not None:
            params[f"f_{name}"] = value
            conditions.append(f"j.{name} = $f_{name}")
    key = SORTS[sort]
    if cursor is not None:
        last_value, last_id = _read_cursor(cursor)
        if sort in ("last_event_at", "started_at", "stage_entered_at"):
            last_value = datetime.fromisoformat(last_value)
        params |= {"c_value": last_value, "c_id": last_id}
        op = "<" if order == "desc" else ">"
        conditions.append(f"({key}, j.journey_id) {op} ($c_value, $c_id)")
    where = " AND ".join(conditions) or "TRUE"
    direction = "DESC" if order == "desc" else "ASC"
    sql = (
        f"WITH j AS ({SQL['journeys_now']}) SELECT {SUMMARY_COLUMNS}, {key} AS _sort "
        f"FROM j WHERE {where} ORDER BY _sort {direction}, j.journey_id {direction} "
        "LIMIT $limit"
    )
    rows = store.query(sql, params, doing="listing journeys")
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _make_cursor(rows[-1]["_sort"], rows[-1]["journey_id"]) if more else None
    for row in rows:
        row.pop("_sort")
    return rows, next_cursor


def journey_detail(*, store: Store, journey_id: int, now: datetime) -> dict[str, Any] | None:
    """One journey with its whole timeline, stage history, anomalies and neighbours."""
    rows = store.query(
        f"WITH j AS ({SQL['journeys_now']}) SELECT * FROM j WHERE journey_id = $id",
        {"now": now, "id": journey_id},
        doing="reading a journey",
    )
    if not rows:
        return None
    journey = rows[0]
    for column in ("keys", "history", "anomalies"):
        journey[column] = orjson.loads(journey[column])
    if journey["status"] == "stalled":
        journey["anomalies"].append(
            {
                "kind": "missing_next",
                "at": journey["next_due_at"],
                "seq": None,
                "detail": f"expected {journey['next_stage'] or 'the next step'} by "
                f"{journey['next_due_at']:%Y-%m-%d %H:%M}Z",
            }
        )
    events = store.query(
        SQL["journey_events"], {"journey_id": journey_id}, doing="reading a journey's events"
    )
    for event in events:
        for column in ("keys", "attributes", "related"):
            event[column] = orjson.loads(event[column])
    journey["events"] = events
    journey["spans"] = journey_spans(store=store, journey_id=journey_id)
    journey["related"] = store.query(
        SQL["journey_neighbours"],
        {"journey_id": journey_id},
        doing="reading a journey's neighbours",
    )
    return journey


def journey_spans(*, store: Store, journey_id: int) -> list[dict[str, Any]]:
    """The OpenTelemetry spans behind a journey's events (own and included), in start order."""
    return store.query(
        SQL["journey_spans"], {"journey_id": journey_id}, doing="reading a journey's spans"
    )


def coverage(*, store: Store) -> list[dict[str, Any]]:
    """Per source: events stitched into multi-system journeys, and events left unlinked."""
    return store.query(SQL["coverage"], doing="computing correlation coverage")


def unlinked_events(
    *,
    store: Store,
    source: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """Events the correlator saw that joined no journey, newest first; and the next cursor."""
    rows = store.query(
        SQL["unlinked_events"],
        {"source": source, "before_seq": before_seq, "limit": limit + 1},
        doing="listing unlinked events",
    )
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["keys"] = orjson.loads(row["keys"])
    return rows, (rows[-1]["seq"] if more else None)


def inventory_lag(
    *, store: Store, since: datetime, facility: str | None = None
) -> list[dict[str, Any]]:
    """Inventory hop lag p50/p95 per facility and system pair for hops since `since`."""
    return store.query(
        SQL["inventory_lag"],
        {"since": since, "facility": facility},
        doing="computing inventory lag",
    )


def inventory_drift(
    *,
    store: Store,
    now: datetime,
    facility: str | None = None,
    min_drift: float = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """SKUs whose latest positions disagree between sources, biggest gap first."""
    rows = store.query(
        SQL["inventory_drift"],
        {"facility": facility, "min_drift": min_drift, "limit": limit},
        doing="computing inventory drift",
    )
    for row in rows:
        row["age_seconds"] = max((now - row["since"]).total_seconds(), 0.0)
    return rows


def _make_cursor(value: Any, journey_id: int) -> str:
    encoded = value.isoformat() if isinstance(value, datetime) else value
    return orjson.dumps([encoded, journey_id]).hex()


def _read_cursor(cursor: str) -> tuple[Any, int]:
    try:
        value, journey_id = orjson.loads(bytes.fromhex(cursor))
        return value, int(journey_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise SearchSyntaxError("cursor is not one this API gave out") from exc
