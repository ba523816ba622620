"""Factories for test data: canonical events as the public API takes them."""

from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count(1)


def make_event(**overrides: Any) -> dict[str, Any]:
    """A valid order event; any field can be overridden (None removes it)."""
    n = next(_counter)
    event: dict[str, Any] = {
        "event_id": f"test-{n}",
        "occurred_at": "2026-11-23T09:15:00-05:00",
        "source": "wms.dc-east",
        "system": "wms",
        "facility": "DC-EAST",
        "type": "order.picked",
        "object_type": "order",
        "keys": {"oms_order": f"W-{n}", "erp_sales_order": str(4_500_000 + n)},
        "attributes": {"sku": "SKU-1", "quantity": 2, "value": 19.5, "currency": "USD"},
    }
    for name, value in overrides.items():
        if value is None:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def make_events(count: int, *, prefix: str = "bulk", **overrides: Any) -> list[dict[str, Any]]:
    """`count` distinct valid events with event ids prefix-0, prefix-1, ..."""
    return [
        make_event(event_id=f"{prefix}-{i}", keys={"oms_order": f"{prefix}-W-{i}"}, **overrides)
        for i in range(count)
    ]
