"""Failures the tower already holds, as occurrences: error events, collector rejects, alerts.

Pure row-to-occurrence functions plus the reads that find rows not yet recorded. Dead letters
come from the broker instead (deadletters.py, jobs.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from exceptions.queries import SQL
from exceptions.routing import Failure
from exceptions.service import Occurrence
from tower.db import Store

__all__ = ["alert_occurrences", "event_occurrence", "reject_occurrences"]

REJECT_LOOKBACK = timedelta(days=7)


def event_occurrence(row: dict[str, Any]) -> Occurrence:
    """An event stored with status error."""
    attributes = _object(row["attributes"])
    partner = attributes.get("partner")
    return Occurrence(
        ref=f"event:{row['seq']}",
        failure=Failure(
            origin="error_event",
            source=row["source"],
            error=row["error"],
            place=row["type"],
            facility=row["facility"],
            partner=str(partner) if partner else None,
            object_type=row["object_type"],
        ),
        occurred_at=row["occurred_at"],
        title=f"{row['type']} failed at {row['source']}",
        keys=_keys(row["keys"]),
        correlation_id=row["correlation_id"],
        detail={"event_id": row["event_id"], "seq": row["seq"], "system": row["system"]},
    )


def reject_occurrences(*, store: Store, now: datetime, limit: int) -> list[Occurrence]:
    """Items the collector refused (and kept) that no exception holds yet."""
    rows = store.query(
        SQL["new_rejects"],
        {"since": now - REJECT_LOOKBACK, "limit": limit},
        doing="reading collector rejects",
    )
    return [_reject(row) for row in rows]


def _reject(row: dict[str, Any]) -> Occurrence:
    item = _object(row["raw"])  # the refused item, when it was a JSON object at all
    source = item.get("source") if isinstance(item.get("source"), str) else None
    facility = item.get("facility") if isinstance(item.get("facility"), str) else None
    correlation = item.get("correlation_id")
    return Occurrence(
        ref=f"reject:{row['reject_id']}",
        failure=Failure(
            origin="reject",
            source=source or "collector",
            error=row["reason"],
            place="collector",
            facility=facility,
            object_type=item.get("object_type")
            if isinstance(item.get("object_type"), str)
            else None,
        ),
        occurred_at=row["received_at"],
        title=f"Refused by the collector{f' from {source}' if source else ''}",
        keys=_keys(item.get("keys")),
        correlation_id=correlation if isinstance(correlation, str) else None,
        detail={"reject_id": row["reject_id"], "request_id": row["request_id"]},
    )


def alert_occurrences(*, store: Store) -> list[Occurrence]:
    """Each alert episode that fired (an SLA or SLO breach) not yet recorded."""
    rows = store.query(SQL["new_alerts"], doing="reading fired alerts")
    return [_alert(row) for row in rows]


def _alert(row: dict[str, Any]) -> Occurrence:
    labels = {str(k): str(v) for k, v in _object(row["labels"]).items()}
    starts_at: datetime = row["starts_at"]
    micros = int(starts_at.timestamp()) * 1_000_000 + starts_at.microsecond
    return Occurrence(
        ref=f"alert:{row['fingerprint']}:{micros}",
        failure=Failure(
            origin="alert",
            source=f"sla:{row['alertname']}",
            error=row["summary"],
            place=row["alertname"],
            facility=labels.get("facility"),
            partner=labels.get("partner"),
            object_type=labels.get("journey") or labels.get("kind"),
        ),
        occurred_at=starts_at,
        title=f"SLA breached: {row['alertname']}",
        detail={
            "fingerprint": row["fingerprint"],
            "labels": labels,
            "link": row["link"],
            "affected": row["affected"],
        },
    )


def _object(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        doc = orjson.loads(text) if isinstance(text, str | bytes) else None
    except orjson.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _keys(value: Any) -> dict[str, str]:
    doc = _object(value)
    return {str(k): str(v) for k, v in doc.items() if isinstance(v, str | int) and str(v)}
