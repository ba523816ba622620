"""The events behind the dashboards' tests, with the figures they must produce.

At NOW (2026-11-23 12:00 UTC) the crafted orders stand as follows:

    W-1001  ACME, web, DC-EAST, USD 1820.50   accepted 06:20, allocation due 10:20 -> stalled
    W-1003  ACME, web, DC-EAST, USD 250.00    accepted 05:05 after an ERP error -> stalled
    W-1002  GLOBEX, edi, DC-EU, EUR 900.00    accepted 08:30, due 12:30 (at risk from 11:30)
    W-1005  NORTHWIND, marketplace, DC-WEST   received 11:50 -> on track
    W-1004  NORTHWIND, marketplace, DC-WEST   shipped as SH-77 / 1Z999, invoiced INV-9001 -> done

and two stock changes at DC-EAST (IC-1, IC-2) hop WMS -> middleware -> ERP -> channel with
known lags; the ERP reports 96 on hand for SKU-1 where the WMS says 100 (drift 4).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import make_event
from tests.simulator.support import EVERY_FAULT, options_for, scenario_data, split

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = NOW.replace(hour=0)

STALLED_USD = 1820.50 + 250.00
LAGS = {  # (from system, to system) -> the two hops' latencies in seconds (IC-1, IC-2)
    ("wms", "middleware"): (120.0, 60.0),
    ("middleware", "erp"): (480.0, 1200.0),
    ("erp", "channel"): (120.0, 60.0),
}

_ids = itertools.count(1)


def _at(hhmm: str) -> str:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return (DAY + timedelta(hours=hours, minutes=minutes)).isoformat()


def _event(
    type: str,
    at: str,
    system: str,
    keys: dict[str, str],
    *,
    object_type: str = "order",
    facility: str | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    return make_event(
        event_id=f"dash-{next(_ids)}",
        type=type,
        occurred_at=_at(at),
        system=system,
        source=f"{system}.main",
        object_type=object_type,
        facility=facility,
        keys=keys,
        attributes=attributes,
    )


def _order(
    oms: str, erp: str, *, customer: str, channel: str, facility: str, value: float, currency: str
) -> dict[str, dict[str, Any]]:
    """Keys and attributes shared by one order's events."""
    money = {"customer": customer, "channel": channel, "value": value, "currency": currency}
    return {
        "own": {"oms_order": oms},
        "both": {"oms_order": oms, "erp_sales_order": erp},
        "attrs": money,
        "facility": {"facility": facility},
    }


def crafted_events() -> list[dict[str, Any]]:
    """Five orders, a shipment, an invoice and two stock changes (see the module docstring)."""
    w1 = _order(
        "W-1001",
        "4500012",
        customer="ACME",
        channel="web",
        facility="DC-EAST",
        value=1820.50,
        currency="USD",
    )
    w2 = _order(
        "W-1002",
        "4500013",
        customer="GLOBEX",
        channel="edi",
        facility="DC-EU",
        value=900.0,
        currency="EUR",
    )
    w3 = _order(
        "W-1003",
        "4500015",
        customer="ACME",
        channel="web",
        facility="DC-EAST",
        value=250.0,
        currency="USD",
    )
    w4 = _order(
        "W-1004",
        "4500014",
        customer="NORTHWIND",
        channel="marketplace",
        facility="DC-WEST",
        value=400.0,
        currency="USD",
    )
    w5 = _order(
        "W-1005",
        "4500016",
        customer="NORTHWIND",
        channel="marketplace",
        facility="DC-WEST",
        value=120.0,
        currency="USD",
    )
    events = []
    for order, received, accepted in (
        (w1, "06:00", "06:20"),
        (w2, "08:00", "08:30"),
        (w3, "04:50", "05:05"),
        (w4, "01:00", "01:10"),
    ):
        events.append(
            _event(
                "order.received",
                received,
                "oms",
                order["own"],
                **order["attrs"],
                **order["facility"],
            )
        )
        events.append(
            _event(
                "order.accepted",
                accepted,
                "erp",
                order["both"],
                **order["attrs"],
                **order["facility"],
            )
        )
    error = _event("order.accepted", "05:00", "erp", w3["both"], **w3["facility"])
    error |= {"status": "error", "error": "posting period closed"}
    events.append(error)
    events.append(
        _event("order.received", "11:50", "oms", w5["own"], **w5["attrs"], **w5["facility"])
    )
    wms = {"wms_order": "P-77", "erp_sales_order": "4500014"}
    for type, at in (
        ("order.allocated", "02:00"),
        ("order.picked", "03:00"),
        ("order.packed", "03:30"),
    ):
        events.append(_event(type, at, "wms", wms, facility="DC-WEST"))
    shipped = _event(
        "shipment.shipped",
        "04:00",
        "wms",
        {"wms_shipment": "SH-77", "carrier_tracking": "1Z999"},
        object_type="shipment",
        facility="DC-WEST",
    )
    shipped["related"] = [{"object_type": "order", "keys": {"erp_sales_order": "4500014"}}]
    delivered = _event(
        "shipment.delivered",
        "04:45",
        "carrier",
        {"carrier_tracking": "1Z999"},
        object_type="shipment",
    )
    invoiced = _event(
        "invoice.posted", "05:00", "erp", {"erp_invoice": "INV-9001"}, object_type="invoice"
    )
    invoiced["related"] = [{"object_type": "order", "keys": {"erp_sales_order": "4500014"}}]
    events += [shipped, delivered, invoiced]
    return events + _stock_changes()


def _stock_changes() -> list[dict[str, Any]]:
    events = []
    for change, start, index in (("IC-1", "10:00", 0), ("IC-2", "11:00", 1)):
        at = DAY + timedelta(hours=int(start[:2]))
        for type, system, on_hand, hop in (
            ("inventory.adjusted", "wms", 100, None),
            ("inventory.published", "middleware", 100, ("wms", "middleware")),
            ("inventory.posted", "erp", 96, ("middleware", "erp")),
            ("inventory.channel_published", "channel", 96, ("erp", "channel")),
        ):
            if hop is not None:
                at += timedelta(seconds=LAGS[hop][index])
            events.append(
                _event(
                    type,
                    f"{at:%H:%M}",
                    system,
                    {"inventory_change": change, "sku": "SKU-1"},
                    object_type="inventory",
                    facility="DC-EAST",
                    sku="SKU-1",
                    on_hand=on_hand,
                    quantity=5,
                )
            )
    return events


def estate_events() -> list[dict[str, Any]]:
    """A day of the simulated distributor up to NOW, with every kind of fault."""
    options = options_for(scenario_data(faults=EVERY_FAULT, backfill="1d"))
    emissions, _ = split(options, now=NOW)
    return [emission.to_event() for emission in emissions]
