"""What a journey's trace view adds to the correlator's detail: the log records behind it, and
its neighbours (journeys that share a shipment or an invoice with it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboards import queries
from tower.db import Store

__all__ = ["journey_logs", "siblings"]


def journey_logs(
    *, store: Store, event_ids: Sequence[str], trace_ids: Sequence[str], limit: int = 200
) -> list[dict[str, Any]]:
    """Log records that yielded one of the events or were logged in one of the traces (the
    newest `limit`, in time order): for a journey, its events' and its spans' ids."""
    if not event_ids and not trace_ids:
        return []
    return store.query(
        queries.statement("journey_logs"),
        {"event_ids": list(event_ids), "trace_ids": list(dict.fromkeys(trace_ids)), "limit": limit},
        doing="reading a journey's log records",
    )


def siblings(*, store: Store, journey_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Journeys that share a linked journey with this one (same shipment, same invoice)."""
    return store.query(
        queries.statement("journey_siblings"),
        {"journey_id": journey_id, "limit": limit},
        doing="reading a journey's neighbours",
    )
