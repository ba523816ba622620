"""An inventory change as it propagates: WMS ──► middleware ──► ERP ──► each sales channel.

Every hop carries the same `inventory_change` key (the estate's interfaces pass it along) plus
the hop's own document number, and the position (`on_hand`) that system now holds. Drift is a
difference between those positions for the same change.
"""

from __future__ import annotations

from datetime import datetime

from simulator.estate import Sku, Warehouse, zone
from simulator.flows.common import Flow
from simulator.records import Emission

__all__ = ["inventory_change"]


def inventory_change(
    flow: Flow,
    *,
    at: datetime,
    warehouse: Warehouse,
    sku: Sku,
    quantity: int,
    on_hand: int,
    step: str = "inventory.adjusted",
    extra: dict[str, object] | None = None,
) -> list[Emission]:
    """The events of one stock change (an adjustment, a count or a receipt) at a warehouse."""
    estate, ids = flow.estate, flow.ids
    change = ids.inventory_change(warehouse)
    message = ids.mw_message()
    refs = (("inventory", "inventory_change", change),)
    attrs: dict[str, object] = {
        "sku": sku.code,
        "facility": warehouse.code,
        "quantity": quantity,
        "on_hand": on_hand,
        **(extra or {}),
    }
    published = at + flow.minutes(0.1, 2)
    posted = published + flow.minutes(0.5, 6)
    out = [
        flow.emit(
            at,
            source=warehouse.source,
            system="wms",
            type=step,
            object_type="inventory",
            keys={"inventory_change": change, "wms_adjustment": ids.adjustment(warehouse)},
            journeys=refs,
            tz=zone(warehouse.tz),
            facility=warehouse.code,
            attributes=attrs,
        ),
        flow.emit(
            published,
            source=estate.mw_source,
            system="middleware",
            type="inventory.published",
            object_type="inventory",
            keys={"inventory_change": change, "mw_message_id": message},
            journeys=refs,
            facility=warehouse.code,
            correlation_id=message,
            attributes={**attrs, "queue": "inventory.wms-to-erp"},
        ),
        flow.emit(
            posted,
            source=estate.erp_source,
            system="erp",
            type="inventory.posted",
            object_type="inventory",
            keys={
                "inventory_change": change,
                "erp_material_document": ids.erp("material_document"),
            },
            journeys=refs,
            facility=warehouse.code,
            correlation_id=message,
            attributes=dict(attrs),
        ),
    ]
    for channel, source in estate.channel_sources:
        out.append(
            flow.emit(
                posted + flow.minutes(1, 10),
                source=source,
                system="channel",
                type="inventory.channel_published",
                object_type="inventory",
                keys={"inventory_change": change},
                journeys=refs,
                facility=warehouse.code,
                attributes={**attrs, "channel": channel},
            )
        )
    return out
