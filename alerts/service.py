"""Storage of alerts, groups, silences, notifications and history (reads and bulk writes)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa

from alerts.exceptions import AlertNotFound, SilenceNotFound
from alerts.grouping import GroupState
from alerts.inhibition import inhibited_by
from alerts.lifecycle import Transition
from alerts.models import AckIn, AlertRecord, InhibitRule, Matcher, SilenceIn
from alerts.silences import Silence, silenced_by
from tower.db import Store, load_queries, split_statements

__all__ = [
    "to_json",
    "NewNotification",
    "ack",
    "create_silence",
    "due_notifications",
    "expire_silence",
    "history",
    "list_alerts",
    "list_notifications",
    "load_alerts",
    "load_groups",
    "load_silences",
    "record_attempt",
    "save_cycle",
]

SQL = load_queries("alerts")
LANE = "alerts"
_TS = pa.timestamp("us", tz="UTC")
NUMBERS = {"value", "threshold", "amount", "for_seconds", "keep_firing_seconds"}


def _column_type(name: str) -> pa.DataType:
    if name.endswith("_at"):
        return _TS
    if name == "affected":
        return pa.int64()
    return pa.float64() if name in NUMBERS else pa.string()


ALERT_FIELDS = tuple(f.name for f in fields(AlertRecord))
ALERT_SCHEMA = pa.schema([(name, _column_type(name)) for name in ALERT_FIELDS])
GROUP_SCHEMA = pa.schema(
    [
        ("group_key", pa.string()),
        ("receiver", pa.string()),
        ("group_labels", pa.string()),
        ("settings", pa.string()),
        ("created_at", _TS),
        ("next_flush_at", _TS),
        ("last_notified_at", _TS),
        ("notified_firing", pa.string()),
        ("notified_resolved", pa.string()),
    ]
)
HISTORY_SCHEMA = pa.schema(
    [
        ("happened_at", _TS),
        ("fingerprint", pa.string()),
        ("alertname", pa.string()),
        ("event", pa.string()),
        ("from_state", pa.string()),
        ("to_state", pa.string()),
        ("detail", pa.string()),
    ]
)
NOTIFICATION_SCHEMA = pa.schema(
    [
        ("group_key", pa.string()),
        ("receiver", pa.string()),
        ("integration", pa.string()),
        ("target", pa.string()),
        ("created_at", _TS),
        ("payload", pa.string()),
    ]
)


@dataclass(frozen=True, slots=True)
class NewNotification:
    group_key: str
    receiver: str
    integration: str
    target: dict[str, Any]
    payload: Any


def to_json(value: Any) -> str:
    return orjson.dumps(value, default=_jsonable).decode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _record(row: dict[str, Any]) -> AlertRecord:
    data = {f.name: row[f.name] for f in fields(AlertRecord)}
    data["labels"] = orjson.loads(row["labels"])
    data["annotations"] = orjson.loads(row["annotations"])
    return AlertRecord(**data)


def load_alerts(*, store: Store) -> dict[str, AlertRecord]:
    """Every stored alert by fingerprint (one row per label set; the latest episode)."""
    rows = store.query(
        SQL["list_alerts"], {"states": None, "alertname": None}, doing="reading alerts"
    )
    return {r["fingerprint"]: _record(r) for r in rows}


def load_groups(*, store: Store) -> dict[str, GroupState]:
    rows = store.query("SELECT * FROM alert_groups", doing="reading notification groups")
    return {
        r["group_key"]: GroupState(
            group_key=r["group_key"],
            receiver=r["receiver"],
            group_labels=orjson.loads(r["group_labels"]),
            created_at=r["created_at"],
            next_flush_at=r["next_flush_at"],
            last_notified_at=r["last_notified_at"],
            notified_firing=orjson.loads(r["notified_firing"]),
            notified_resolved=orjson.loads(r["notified_resolved"]),
        )
        for r in rows
    }


def load_silences(*, store: Store) -> list[Silence]:
    rows = store.query("SELECT * FROM silences ORDER BY created_at", doing="reading silences")
    return [
        Silence(
            silence_id=r["silence_id"],
            matchers=[Matcher.model_validate(m) for m in orjson.loads(r["matchers"])],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            created_by=r["created_by"],
            comment=r["comment"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


def save_cycle(
    *,
    store: Store,
    alerts: list[AlertRecord],
    transitions: list[Transition],
    groups: dict[str, GroupState],
    notifications: list[NewNotification],
    now: datetime,
) -> None:
    """Store one cycle's alerts, history, groups and new notifications in one transaction."""
    alert_rows = [
        # A shallow copy per record: asdict's deep copies cost a second at 1,000 alerts.
        {
            **{name: getattr(a, name) for name in ALERT_FIELDS},
            "labels": to_json(a.labels),
            "annotations": to_json(a.annotations),
        }
        for a in alerts
    ]
    history_rows = [
        {
            "happened_at": t.at,
            "fingerprint": t.fingerprint,
            "alertname": t.alertname,
            "event": t.event,
            "from_state": t.from_state,
            "to_state": t.to_state,
            "detail": t.detail,
        }
        for t in transitions
    ] + [
        {
            "happened_at": now,
            "fingerprint": None,
            "alertname": None,
            "event": "notification",
            "from_state": None,
            "to_state": None,
            "detail": f"{n.receiver}/{n.integration}: {n.group_key}",
        }
        for n in notifications
    ]
    group_rows = [
        {
            "group_key": g.group_key,
            "receiver": g.receiver,
            "group_labels": to_json(g.group_labels),
            "settings": "{}",
            "created_at": g.created_at,
            "next_flush_at": g.next_flush_at,
            "last_notified_at": g.last_notified_at,
            "notified_firing": to_json(g.notified_firing),
            "notified_resolved": to_json(g.notified_resolved),
        }
        for g in groups.values()
    ]
    notification_rows = [
        {
            "group_key": n.group_key,
            "receiver": n.receiver,
            "integration": n.integration,
            "target": to_json(n.target),
            "created_at": now,
            "payload": to_json(n.payload),
        }
        for n in notifications
    ]
    batches = {
        "alert_batch": pa.Table.from_pylist(alert_rows, schema=ALERT_SCHEMA),
        "history_batch": pa.Table.from_pylist(history_rows, schema=HISTORY_SCHEMA),
        "group_batch": pa.Table.from_pylist(group_rows, schema=GROUP_SCHEMA),
        "notification_batch": pa.Table.from_pylist(notification_rows, schema=NOTIFICATION_SCHEMA),
    }
    with store.transaction(doing="recording an alert cycle", lane=LANE) as con:
        for name, table in batches.items():
            con.register(name, table)
        try:
            for statement in split_statements(SQL["upsert_alerts"]):
                con.execute(statement)
            for statement in split_statements(SQL["replace_groups"]):
                con.execute(statement)
            con.execute(SQL["insert_history"])
            con.execute(SQL["insert_notifications"])
        finally:
            for name in batches:
                con.unregister(name)


def list_alerts(
    *,
    store: Store,
    now: datetime,
    states: list[str] | None = None,
    alertname: str | None = None,
    matchers: Iterable[Matcher] = (),
    inhibit_rules: Sequence[InhibitRule] = (),
) -> list[dict[str, Any]]:
    """Alerts with their silencing at `now` and their inhibition (by every stored alert's state),
    filtered by state, name and label matchers."""
    rows = store.query(
        SQL["list_alerts"], {"states": states, "alertname": alertname}, doing="listing alerts"
    )
    silences = load_silences(store=store)
    inhibited = (
        inhibited_by(load_alerts(store=store).values(), inhibit_rules) if inhibit_rules else {}
    )
    wanted = list(matchers)
    found = []
    for row in rows:
        row["labels"] = orjson.loads(row["labels"])
        row["annotations"] = orjson.loads(row["annotations"])
        if not all(m.matches(row["labels"]) for m in wanted):
            continue
        row["silenced_by"] = silenced_by(row["labels"], silences, now=now)
        row["inhibited_by"] = inhibited.get(row["fingerprint"], [])
        found.append(row)
    return found


def ack(*, store: Store, fingerprint: str, ack_in: AckIn, now: datetime) -> dict[str, Any]:
    """Acknowledge a pending or firing alert; who, when, owner; recorded in the history."""
    owner = ack_in.owner or ack_in.by
    with store.transaction(doing="acknowledging an alert", lane=LANE) as con:
        hit = con.execute(
            SQL["ack_alert"],
            {
                "by": ack_in.by,
                "now": now,
                "owner": owner,
                "comment": ack_in.comment,
                "fingerprint": fingerprint,
            },
        ).fetchall()
        if not hit:
            raise AlertNotFound(f"no pending or firing alert {fingerprint}")
        con.execute(
            "INSERT INTO alert_history (happened_at, fingerprint, alertname, event, detail)"
            " VALUES (?, ?, ?, 'ack', ?)",
            [
                now,
                fingerprint,
                hit[0][1],
                f"acknowledged by {ack_in.by}, owner {owner}"
                + (f": {ack_in.comment}" if ack_in.comment else ""),
            ],
        )
    return {"fingerprint": fingerprint, "acked_by": ack_in.by, "acked_at": now, "owner": owner}


def history(
    *, store: Store, fingerprint: str | None = None, since: datetime | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    return store.query(
        SQL["history"],
        {"fingerprint": fingerprint, "since": since, "limit": limit},
        doing="reading alert history",
    )


def create_silence(*, store: Store, silence_in: SilenceIn, now: datetime) -> dict[str, Any]:
    silence_id = str(uuid.uuid4())
    starts_at = silence_in.starts_at or now
    matchers = [m.model_dump() for m in silence_in.matchers]
    with store.transaction(doing="creating a silence", lane=LANE) as con:
        con.execute(
            SQL["insert_silence"],
            {
                "silence_id": silence_id,
                "matchers": to_json(matchers),
                "starts_at": starts_at,
                "ends_at": silence_in.ends_at,
                "created_by": silence_in.created_by,
                "comment": silence_in.comment,
                "created_at": now,
            },
        )
    return {"silence_id": silence_id, "starts_at": starts_at, "ends_at": silence_in.ends_at}


def expire_silence(*, store: Store, silence_id: str, now: datetime) -> None:
    with store.transaction(doing="expiring a silence", lane=LANE) as con:
        hit = con.execute(SQL["expire_silence"], {"silence_id": silence_id, "now": now}).fetchall()
    if not hit:
        raise SilenceNotFound(f"no active or pending silence {silence_id}")


def due_notifications(*, store: Store, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
    rows = store.query(
        SQL["due_notifications"], {"now": now, "limit": limit}, doing="reading due notifications"
    )
    for row in rows:
        row["target"] = orjson.loads(row["target"])
        row["payload"] = orjson.loads(row["payload"])
    return rows


def record_attempt(
    *,
    store: Store,
    notification_id: int,
    attempt: int,
    now: datetime,
    status: str,
    next_attempt_at: datetime,
    status_code: int | None = None,
    error: str | None = None,
) -> None:
    params = {
        "id": notification_id,
        "attempt": attempt,
        "now": now,
        "ok": status == "sent",
        "status": status,
        "next_attempt_at": next_attempt_at,
        "status_code": status_code,
        "error": error,
    }
    with store.transaction(doing="recording a delivery attempt", lane=LANE) as con:
        for statement in split_statements(SQL["record_attempt"]):
            used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", statement)}
            con.execute(statement, used)


def list_notifications(
    *, store: Store, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    return store.query(
        SQL["notifications"], {"status": status, "limit": limit}, doing="listing notifications"
    )
