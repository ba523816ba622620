"""Exceptions: record failures grouped by cause (new or known), and read them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from exceptions.deadletters import DeadLetter
from exceptions.queries import LANE, SQL
from exceptions.routing import Failure, RoutingRules, group_key
from exceptions.workflow import get_exception, history
from tower.db import Store

__all__ = [
    "LANE",
    "SQL",
    "Occurrence",
    "RecordReport",
    "dead_letter_queues",
    "exception_detail",
    "get_exception",
    "kpis",
    "list_exceptions",
    "record",
    "store_dead_letters",
]

TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One failure seen: an error event or a copy of a dead-lettered message."""

    ref: str
    failure: Failure
    occurred_at: datetime
    title: str
    keys: dict[str, str] = field(default_factory=dict)
    correlation_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RecordReport:
    """What one call to record did; exception_of maps every given ref to its exception."""

    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    recorded: int = 0
    exception_of: dict[str, int] = field(default_factory=dict)


def record(
    *, store: Store, occurrences: Sequence[Occurrence], rules: RoutingRules, now: datetime
) -> RecordReport:
    """Record failures not seen before, each under the exception of its cause (new or known)."""
    report = RecordReport()
    if not occurrences:
        return report
    with store.transaction(doing="recording exceptions", lane=LANE) as con:
        refs = [o.ref for o in occurrences]
        seen = dict(con.execute(SQL["seen_refs"], {"refs": refs}).fetchall())
        report.exception_of.update(seen)
        fresh: dict[str, list[Occurrence]] = {}
        unique: dict[str, Occurrence] = {}
        for occurrence in occurrences:
            if occurrence.ref not in seen and occurrence.ref not in unique:
                unique[occurrence.ref] = occurrence
                fresh.setdefault(group_key(occurrence.failure), []).append(occurrence)
        if not fresh:
            return report
        known = {
            key: (exception_id, status)
            for key, exception_id, status in con.execute(
                SQL["find_groups"], {"keys": list(fresh)}
            ).fetchall()
        }
        for key, group in fresh.items():
            group.sort(key=lambda o: o.occurred_at)
            latest = group[-1]
            if key in known:
                exception_id, status = known[key]
                con.execute(
                    SQL["bump_exception"],
                    {
                        "exception_id": exception_id,
                        "occurrences": len(group),
                        "last_seen_at": latest.occurred_at,
                        "error": latest.failure.error,
                        "now": now,
                    },
                )
                if status in ("resolved", "replayed"):
                    report.reopened.append(exception_id)
                    history(con, exception_id, now, "tower", "reopened", status, "open",
                             {"ref": latest.ref, "error": latest.failure.error})  # fmt: skip
            else:
                first = group[0]
                route = rules.route(first.failure)
                exception_id = con.execute(
                    SQL["insert_exception"],
                    {
                        "group_key": key,
                        "origin": first.failure.origin,
                        "category": route.category,
                        "domain": route.domain,
                        "severity": route.severity,
                        "owner": route.owner,
                        "rule": route.rule,
                        "title": first.title,
                        "source": first.failure.source,
                        "place": first.failure.place,
                        "facility": first.failure.facility,
                        "partner": first.failure.partner,
                        "error": latest.failure.error,
                        "occurrences": len(group),
                        "first_seen_at": first.occurred_at,
                        "last_seen_at": latest.occurred_at,
                        "now": now,
                    },
                ).fetchall()[0][0]
                report.opened.append(exception_id)
                history(con, exception_id, now, "tower", "opened", None, "open",
                         {"owner": route.owner, "rule": route.rule, "ref": first.ref})  # fmt: skip
            for occurrence in group:
                report.exception_of[occurrence.ref] = exception_id
        _insert_occurrences(con, list(unique.values()), report.exception_of, now)
        report.recorded = len(unique)
    return report


def _insert_occurrences(
    con: Any, occurrences: list[Occurrence], exception_of: dict[str, int], now: datetime
) -> None:
    table = pa.table(
        {
            "exception_id": pa.array([exception_of[o.ref] for o in occurrences], pa.int64()),
            "ref": pa.array([o.ref for o in occurrences], pa.string()),
            "occurred_at": pa.array([o.occurred_at for o in occurrences], TIME),
            "recorded_at": pa.array([now] * len(occurrences), TIME),
            "error": pa.array([o.failure.error for o in occurrences], pa.string()),
            "correlation_id": pa.array([o.correlation_id for o in occurrences], pa.string()),
            "detail": pa.array([_json(o.detail) for o in occurrences], pa.string()),
        }
    )
    keys = [(exception_of[o.ref], o.ref, ns, v) for o in occurrences for ns, v in o.keys.items()]
    key_table = pa.table(
        {
            "exception_id": pa.array([k[0] for k in keys], pa.int64()),
            "ref": pa.array([k[1] for k in keys], pa.string()),
            "namespace": pa.array([k[2] for k in keys], pa.string()),
            "value": pa.array([k[3] for k in keys], pa.string()),
        }
    )
    for name, arrow, sql in (
        ("incoming_occurrences", table, "insert_occurrences"),
        ("incoming_keys", key_table, "insert_keys"),
    ):
        con.register(name, arrow)
        try:
            con.execute(SQL[sql])
        finally:
            con.unregister(name)


def store_dead_letters(
    *,
    store: Store,
    broker: str,
    vhost: str,
    queue: str,
    letters: Sequence[DeadLetter],
    exception_of: dict[str, int],
    now: datetime,
) -> None:
    """What one poll of a dead-letter queue showed: seen again, new, or no longer there."""
    rows = [_letter_row(letter, exception_of[_occurrence_ref(letter)], now) for letter in letters]
    with store.transaction(doing=f"storing dead letters of {queue}", lane=LANE) as con:
        con.execute(SQL["mark_absent"], {"broker": broker, "vhost": vhost, "queue": queue})
        if not rows:
            return
        con.register("incoming_letters", pa.Table.from_pylist(rows, schema=_LETTER_SCHEMA))
        try:
            for statement in SQL["upsert_dead_letters"].split(";\n"):
                if statement.strip():
                    con.execute(statement)
        finally:
            con.unregister("incoming_letters")


_LETTER_SCHEMA = pa.schema(
    [
        ("message_ref", pa.string()),
        ("claim_ref", pa.string()),
        ("broker", pa.string()),
        ("vhost", pa.string()),
        ("queue", pa.string()),
        ("message_id", pa.string()),
        ("correlation_id", pa.string()),
        ("exchange", pa.string()),
        ("routing_key", pa.string()),
        ("from_queue", pa.string()),
        ("reason", pa.string()),
        ("deaths", pa.int64()),
        ("died_at", TIME),
        ("properties", pa.string()),
        ("payload", pa.string()),
        ("payload_encoding", pa.string()),
        ("keys", pa.string()),
        ("exception_id", pa.int64()),
        ("first_seen_at", TIME),
        ("last_seen_at", TIME),
        ("present", pa.bool_()),
        ("removed_at", TIME),
    ]
)


def _occurrence_ref(letter: DeadLetter) -> str:
    return f"dl:{letter.message_ref}"


def _letter_row(letter: DeadLetter, exception_id: int, now: datetime) -> dict[str, Any]:
    return {
        "message_ref": letter.message_ref,
        "claim_ref": letter.claim_ref,
        "broker": letter.broker,
        "vhost": letter.vhost,
        "queue": letter.queue,
        "message_id": letter.message_id,
        "correlation_id": letter.correlation_id,
        "exchange": letter.exchange,
        "routing_key": letter.routing_key,
        "from_queue": letter.from_queue,
        "reason": letter.reason,
        "deaths": letter.deaths,
        "died_at": letter.died_at,
        "properties": _json(letter.properties),
        "payload": letter.payload,
        "payload_encoding": letter.payload_encoding,
        "keys": _json(letter.keys),
        "exception_id": exception_id,
        "first_seen_at": now,
        "last_seen_at": now,
        "present": True,
        "removed_at": None,
    }


# -- reading -----------------------------------------------------------------------------------


def list_exceptions(
    *,
    store: Store,
    status: str | None = None,
    owner: str | None = None,
    domain: str | None = None,
    facility: str | None = None,
    partner: str | None = None,
    origin: str | None = None,
    journey: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Exceptions matching every filter given, most recently seen first."""
    linked = None
    if journey is not None:
        rows = store.query(SQL["linked"], {"journey": journey}, doing="finding linked exceptions")
        linked = [r["exception_id"] for r in rows]
    params = {
        "status": status,
        "owner": owner,
        "domain": domain,
        "facility": facility,
        "partner": partner,
        "origin": origin,
        "linked": linked,
        "limit": limit,
    }
    return store.query(SQL["list_exceptions"], params, doing="listing exceptions")


def exception_detail(*, store: Store, exception_id: int, occurrences: int = 50) -> dict[str, Any]:
    """The exception with its journeys, newest occurrences, dead letters and history."""
    detail = get_exception(store=store, exception_id=exception_id)
    params = {"exception_id": exception_id}
    detail["journeys"] = store.query(SQL["journeys_of"], params, doing="linking journeys")
    detail["recent"] = [
        {**row, "detail": orjson.loads(row["detail"]), "keys": dict(row["keys"])}
        for row in store.query(
            SQL["occurrences_of"], {**params, "limit": occurrences}, doing="reading occurrences"
        )
    ]
    detail["dead_letters"] = [
        {**row, "properties": orjson.loads(row["properties"]), "keys": orjson.loads(row["keys"])}
        for row in store.query(SQL["dead_letters_of"], params, doing="reading dead letters")
    ]
    detail["history"] = [
        {**row, "detail": orjson.loads(row["detail"])}
        for row in store.query(SQL["history_of"], params, doing="reading history")
    ]
    return detail


def dead_letter_queues(*, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Each dead-letter queue read: messages now, and the age of the oldest (seconds)."""
    rows = store.query(SQL["dead_letter_queues"], doing="summing dead-letter queues")
    for row in rows:
        oldest = row.pop("oldest_died_at")
        row["oldest_age_seconds"] = (now - oldest).total_seconds() if oldest else None
    return rows


def kpis(*, store: Store, since: datetime, now: datetime) -> dict[str, Any]:
    """Exception rate per domain, times to acknowledge and resolve, replay success rate."""
    hours = max((now - since).total_seconds() / 3600, 1e-9)
    domains = store.query(SQL["kpis"], {"since": since}, doing="computing exception KPIs")
    for row in domains:
        row["per_hour"] = row["occurrences"] / hours
    outcomes = {
        r["outcome"]: r["messages"]
        for r in store.query(SQL["replay_outcomes"], {"since": since}, doing="replay outcomes")
    }
    attempted = sum(outcomes.values())
    return {
        "since": since,
        "until": now,
        "domains": domains,
        "replays": outcomes,
        "replay_success_rate": outcomes.get("published", 0) / attempted if attempted else None,
    }


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
