"""The seed KPIs over time: order exception rate, inventory latency, shipment-to-invoice cycle,
supplier acknowledgement cycle (850 -> 855) and partner connectivity health.

The cycle KPIs are one parameterised query (dashboards/sql/kpi_cycle.sql) over the correlator's
stage hops, each with the kind and the two stages that bound it; see docs/dashboards.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dashboards import queries
from tower.db import Store

__all__ = ["CYCLES", "Cycle", "cycle_trend", "partner_health", "trends"]


@dataclass(frozen=True, slots=True)
class Cycle:
    """A cycle-time KPI: journeys of `kind`, from first entering `start` to first entering `end`."""

    name: str
    title: str
    kind: str
    start: str
    end: str
    counted: str  # what the journeys are, for people: "orders"


CYCLES: tuple[Cycle, ...] = (
    Cycle("inventory_latency", "Inventory latency (WMS adjusted -> channel)", "inventory",
          "adjusted", "channel_published", "stock changes"),
    Cycle("ship_to_invoice", "Shipment-to-invoice cycle time (order shipped -> invoiced)",
          "order", "shipped", "invoiced", "orders"),
    Cycle("supplier_ack", "Supplier acknowledgement cycle (850 sent -> 855 received)",
          "purchase_order", "sent", "acknowledged", "purchase orders"),
)  # fmt: skip


def cycle_trend(
    *, store: Store, cycle: Cycle, now: datetime, since: datetime, bucket: timedelta
) -> list[dict[str, Any]]:
    """Per bucket of the end stage: journeys that completed the cycle, p50 and p95 seconds."""
    return store.query(
        queries.statement("kpi_cycle"),
        {
            "kind": cycle.kind,
            "from_stage": cycle.start,
            "to_stage": cycle.end,
            "now": now,
            "since": since,
            "bucket": bucket,
        },
        doing=f"computing the {cycle.name} trend",
    )


def partner_health(
    *, store: Store, now: datetime, since: datetime, bucket: timedelta
) -> list[dict[str, Any]]:
    """Per bucket: EDI documents, errors, active partners and partners with an error."""
    return store.query(
        queries.statement("kpi_partner_health"),
        {"now": now, "since": since, "bucket": bucket},
        doing="computing partner connectivity health",
    )


def trends(
    *, store: Store, now: datetime, since: datetime, bucket: timedelta
) -> dict[str, list[dict[str, Any]]]:
    """Every seed KPI's series by name (the order exception rate included)."""
    found = {
        "exception_rate": queries.exception_trend(
            store=store, now=now, since=since, bucket=bucket, kind="order"
        ),
        "partner_health": partner_health(store=store, now=now, since=since, bucket=bucket),
    }
    for cycle in CYCLES:
        found[cycle.name] = cycle_trend(
            store=store, cycle=cycle, now=now, since=since, bucket=bucket
        )
    return found
