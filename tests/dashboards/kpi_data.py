"""A store of known KPI data, written through the collector's own validation and writer and
stitched by the correlator's own job (no server: these are pure tests of the SQL).

At NOW (2026-11-23 12:00 UTC), over the last 24 hours in 1-hour buckets:

    inventory IC-A adjusted 09:00, on the channel 09:10 (600 s)      -> bucket 09:00
    inventory IC-B adjusted 09:20, on the channel 09:50 (1800 s)     -> bucket 09:00
    inventory IC-C adjusted 10:05, published 10:06, not yet on a channel: no cycle
    inventory IC-D adjusted and on the channel two days ago: outside the period
    order W-KPI-1 shipped 08:00, invoiced 10:30 (9000 s)             -> bucket 10:00
    order W-KPI-2 shipped 09:00, not invoiced: no cycle
    PO-1 850 sent 06:00 to SUP-1, 855 received 11:00 (18000 s)        -> bucket 11:00
    PO-2 850 sent 07:00 to SUP-2, refused by the partner (an error): no cycle
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from collector.ingest import Item, validate
from collector.writer import Writer
from correlator.jobs import run_until_caught_up
from correlator.models import load_models
from tests.factories import make_event
from tower.db import Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = NOW.replace(hour=0)
BUCKET = timedelta(hours=1)
SINCE = NOW - timedelta(hours=24)

_ids = itertools.count(1)


def _at(hhmm: str, *, days_before: int = 0) -> str:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return (DAY - timedelta(days=days_before, hours=-hours, minutes=-minutes)).isoformat()


def _event(
    type: str, at: str, system: str, object_type: str, keys: dict[str, str], **extra: Any
) -> dict[str, Any]:
    return make_event(
        event_id=f"kpi-{next(_ids)}",
        type=type,
        occurred_at=at,
        system=system,
        source=f"{system}.main",
        object_type=object_type,
        facility="DC-EAST",
        keys=keys,
        attributes=extra.pop("attributes", {}),
        **extra,
    )


def events() -> list[dict[str, Any]]:
    """The events of the module docstring."""
    inv = "inventory"
    po = "purchase_order"
    found = [
        _event("inventory.adjusted", _at("09:00"), "wms", inv, {"inventory_change": "IC-A"}),
        _event("inventory.channel_published", _at("09:10"), "channel", inv,
               {"inventory_change": "IC-A"}),
        _event("inventory.adjusted", _at("09:20"), "wms", inv, {"inventory_change": "IC-B"}),
        _event("inventory.channel_published", _at("09:50"), "channel", inv,
               {"inventory_change": "IC-B"}),
        _event("inventory.adjusted", _at("10:05"), "wms", inv, {"inventory_change": "IC-C"}),
        _event("inventory.published", _at("10:06"), "middleware", inv,
               {"inventory_change": "IC-C"}),
        _event("inventory.adjusted", _at("09:00", days_before=2), "wms", inv,
               {"inventory_change": "IC-D"}),
        _event("inventory.channel_published", _at("09:05", days_before=2), "channel", inv,
               {"inventory_change": "IC-D"}),
        _event("order.shipped", _at("08:00"), "wms", "order", {"oms_order": "W-KPI-1"}),
        _event("invoice.posted", _at("10:30"), "erp", "order", {"oms_order": "W-KPI-1"}),
        _event("order.shipped", _at("09:00"), "wms", "order", {"oms_order": "W-KPI-2"}),
        _event("edi.850.sent", _at("06:00"), "edi", po, {"po_number": "PO-1"},
               attributes={"partner": "SUP-1"}),
        _event("edi.855.received", _at("11:00"), "edi", po, {"po_number": "PO-1"},
               attributes={"partner": "SUP-1"}),
        _event("edi.850.sent", _at("07:00"), "edi", po, {"po_number": "PO-2"},
               attributes={"partner": "SUP-2"}, status="error", error="AS2 MDN: refused"),
    ]  # fmt: skip
    return found


def build(path: Path, rows: list[dict[str, Any]]) -> Store:
    """A store at `path` holding `rows`, validated, written and correlated as in production."""
    store = Store(path)
    writer = Writer(store, max_queued_events=10_000, max_commit_events=10_000)
    writer.start()
    try:
        items = [Item(i, None, orjson.dumps(e).decode()) for i, e in enumerate(rows)]
        batch = validate(store, items, received_at=NOW)
        assert batch.rejects.num_rows == 0, batch.rejects.column("reason").to_pylist()
        assert writer.submit(batch, request_id="kpi").result().accepted == len(rows)
    finally:
        writer.stop()
    run_until_caught_up(store=store, models=load_models())
    return store
