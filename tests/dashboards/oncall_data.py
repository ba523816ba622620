"""What the on-call tower is fed, and the figures the on-call page must show.

Three orders are allocated at 08:10 and never picked (W-1, W-2 at DC-EAST, W-3 at DC-WEST):
`orders_stalled_in_allocation` (2h, for 5m) breaches at BREACHED and fires at FIRED, one
alert per facility. In the hour before FIRED, wms.main sends two events (one an error) and
edi.as2 one (an error); the collector refuses one event without a type; two queues report.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import make_event
from tests.sla.support import T0, order

ALLOCATED = T0 + timedelta(minutes=10)
BREACHED = ALLOCATED + timedelta(hours=2, seconds=1)
FIRED = BREACHED + timedelta(minutes=5)
STALLED = {"W-1": "DC-EAST", "W-2": "DC-EAST", "W-3": "DC-WEST"}

# source -> (events, errors) in the hour before FIRED
ERRORS = {"edi.as2": (1, 1), "wms.main": (2, 1)}

REFUSED = make_event(event_id="oncall-refused", type=None)

QUEUE_SAMPLES: list[dict[str, Any]] = [
    {
        "broker": "rabbit@mq-1",
        "queue": "orders.in",
        "depth": 1250,
        "oldest_age_seconds": 900.0,
        "consumers": 2,
        "sampled_at": (FIRED - timedelta(minutes=1)).isoformat(),
    },
    {
        "broker": "rabbit@mq-1",
        "queue": "orders.in",
        "depth": 10,
        "oldest_age_seconds": 5.0,
        "consumers": 2,
        "sampled_at": (FIRED - timedelta(minutes=30)).isoformat(),
    },
    {
        "broker": "rabbit@mq-1",
        "queue": "invoices.dlq",
        "depth": 3,
        "dead_letter": True,
        "sampled_at": (FIRED - timedelta(minutes=2)).isoformat(),
    },
]


def events() -> list[dict[str, Any]]:
    stalled = [
        event
        for order_id, facility in STALLED.items()
        for event in (
            order("order.accepted", T0, order_id, facility=facility, value=900.0, currency="USD"),
            order("order.allocated", ALLOCATED, order_id, facility=facility),
        )
    ]
    recent = FIRED - timedelta(minutes=30)
    return [
        *stalled,
        make_event(
            occurred_at=recent.isoformat(),
            source="wms.main",
            system="wms",
            facility="DC-EU",
            type="order.picked",
            keys={"oms_order": "E-1"},
        ),
        make_event(
            occurred_at=(recent + timedelta(minutes=1)).isoformat(),
            source="wms.main",
            system="wms",
            facility="DC-EU",
            type="order.packed",
            keys={"oms_order": "E-1"},
            status="error",
            error="label printer offline",
        ),
        make_event(
            occurred_at=recent.isoformat(),
            source="edi.as2",
            system="edi",
            facility="DC-EU",
            type="order.received",
            keys={"oms_order": "E-2"},
            status="error",
            error="855 rejected",
        ),
    ]
