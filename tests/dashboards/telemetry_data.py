"""A journey with spans and log records, neighbours on one shipment, and queue samples: what
the trace view and the facilities' queue backlog add.

Orders W-2001 and W-2002 ship together on SH-2 (so each is the other's neighbour); W-2003
ships alone on SH-3. The OMS traces W-2001's acceptance (trace T1) and logs a line inside that
trace; the ERP logs an error line naming W-2001 (it becomes an error event on its journey).
A line about W-2999 in another trace belongs to no journey shown here.

Queues, sampled at 09:00, 10:00 and 11:00 (QUEUES: name -> depths): DC-EAST's inbound queue
drains, its dead-letter queue grows by 7; DC-EU's picks hold steady; the OMS-to-ERP queue
names no facility (shared).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import make_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
T1 = "5b8efff798038103d269b633813fc60c"
T2 = "0af7651916cd43dd8448eb211c80319c"
ERROR_LINE = "2026-11-23 10:05:00,000 [main] ERROR com.erp.Posting - order W-2001 posting blocked"
INSIDE_TRACE = "reserving stock for the order"


def _ns(at: datetime) -> str:
    return str(int(at.timestamp() * 1_000_000_000))


def events() -> list[dict[str, Any]]:
    """The orders and shipments."""
    at = NOW - timedelta(hours=3)
    found = []
    for n, order in enumerate(("W-2001", "W-2002", "W-2003")):
        found.append(
            make_event(
                event_id=f"tel-{order}",
                type="order.received",
                occurred_at=(at + timedelta(minutes=n)).isoformat(),
                system="oms",
                source="oms.core",
                keys={"oms_order": order},
            )
        )
    for shipment, orders in (("SH-2", ("W-2001", "W-2002")), ("SH-3", ("W-2003",))):
        shipped = make_event(
            event_id=f"tel-{shipment}",
            type="shipment.shipped",
            occurred_at=(at + timedelta(hours=1)).isoformat(),
            system="wms",
            source="wms.dc-east",
            object_type="shipment",
            keys={"wms_shipment": shipment},
        )
        shipped["related"] = [{"object_type": "order", "keys": {"oms_order": o}} for o in orders]
        found.append(shipped)
    return found


def spans() -> dict[str, Any]:
    """OTLP/JSON: the OMS's span for W-2001's acceptance, in trace T1."""
    start = NOW - timedelta(hours=2)
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "oms-api"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "oms"},
                        "spans": [
                            {
                                "traceId": T1,
                                "spanId": "eee19b7ec3c1b174",
                                "name": "order.accepted",
                                "kind": 2,
                                "startTimeUnixNano": _ns(start),
                                "endTimeUnixNano": _ns(start + timedelta(milliseconds=420)),
                                "attributes": [
                                    {"key": "order.id", "value": {"stringValue": "W-2001"}}
                                ],
                                "status": {"code": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }


def logs() -> dict[str, Any]:
    """OTLP/JSON: a line inside trace T1, and one about another order in trace T2."""
    at = NOW - timedelta(hours=2)

    def record(trace: str, body: str) -> dict[str, Any]:
        return {
            "timeUnixNano": _ns(at),
            "severityNumber": 9,
            "severityText": "INFO",
            "body": {"stringValue": body},
            "traceId": trace,
            "spanId": "eee19b7ec3c1b174",
        }

    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "oms-api"}}]
                },
                "scopeLogs": [
                    {
                        "logRecords": [
                            record(T1, INSIDE_TRACE),
                            record(T2, "nothing to do with W-2001's journey"),
                        ]
                    }
                ],
            }
        ]
    }


QUEUES = {
    "orders.dc-east.in": (120, 60, 30),
    "orders.dc-east.in.dlq": (1, 3, 8),
    "picks_DC_EU": (5, 5, 5),
    "orders.oms-to-erp": (10, 40, 90),
}
SAMPLED = [NOW - timedelta(hours=h) for h in (3, 2, 1)]


def queue_samples() -> list[dict[str, Any]]:
    """POST /api/v1/queues/samples items for QUEUES."""
    return [
        {
            "broker": "rabbit@mq-1",
            "vhost": "/",
            "queue": queue,
            "depth": depth,
            "oldest_age_seconds": 60.0 * depth,
            "sampled_at": at.isoformat(),
        }
        for queue, depths in QUEUES.items()
        for at, depth in zip(SAMPLED, depths, strict=True)
    ]
