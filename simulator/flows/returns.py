"""A customer return: authorised in the OMS, received and inspected in the warehouse, credited
in the ERP, refunded by the OMS. Its own journey, linked to the order it reverses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.estate import Warehouse, zone
from simulator.flows.common import Flow, related_orders
from simulator.records import Emission

__all__ = ["customer_return"]

REASONS = ("damaged", "wrong item", "not as described", "no longer needed")


def customer_return(
    flow: Flow,
    *,
    delivered: datetime,
    oms_order: str,
    sales_order: str,
    warehouse: Warehouse,
    attributes: dict[str, Any],
) -> list[Emission]:
    """The events of one return of a delivered order."""
    estate, ids = flow.estate, flow.ids
    rma = ids.return_auth()
    wms_return = ids.wms_return(warehouse)
    memo = ids.erp("credit_memo")
    refs = (("return", "return_auth", rma),)
    attrs = {**attributes, "reason": flow.rng.choice(REASONS)}
    local = zone(warehouse.tz)

    authorised = delivered + flow.days(1, 10)
    received = flow.on_shift(authorised + flow.days(2, 6), warehouse)
    inspected = flow.on_shift(received + flow.hours(2, 24), warehouse)
    credited = inspected + flow.hours(1, 48)
    refunded = credited + flow.hours(1, 24)
    wms_keys = {"return_auth": rma, "wms_return": wms_return}
    return [
        flow.emit(
            authorised,
            source=estate.oms_source,
            system="oms",
            type="return.authorised",
            object_type="return",
            keys={"return_auth": rma},
            journeys=refs,
            related=related_orders("oms_order", [oms_order]),
            attributes=attrs,
        ),
        flow.emit(
            received,
            source=warehouse.source,
            system="wms",
            type="return.received",
            object_type="return",
            keys=wms_keys,
            journeys=refs,
            tz=local,
            facility=warehouse.code,
            attributes=attrs,
        ),
        flow.emit(
            inspected,
            source=warehouse.source,
            system="wms",
            type="return.inspected",
            object_type="return",
            keys=wms_keys,
            journeys=refs,
            tz=local,
            facility=warehouse.code,
            attributes={**attrs, "disposition": flow.rng.choice(("restock", "scrap"))},
        ),
        flow.emit(
            credited,
            source=estate.erp_source,
            system="erp",
            type="credit_memo.posted",
            object_type="return",
            keys={"return_auth": rma, "erp_credit_memo": memo},
            journeys=refs,
            related=related_orders("erp_sales_order", [sales_order]),
            attributes=attrs,
        ),
        flow.emit(
            refunded,
            source=estate.oms_source,
            system="oms",
            type="return.refunded",
            object_type="return",
            keys={"return_auth": rma},
            journeys=refs,
            attributes=attrs,
        ),
    ]
