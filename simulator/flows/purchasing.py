"""A purchase order to a supplier over EDI: 850 out, 997 and 855 in, 856 in, goods received in
the warehouse (which starts an inventory change), 810 in, three-way match in the ERP."""

from __future__ import annotations

from datetime import datetime

from simulator.estate import Sku, Supplier, Warehouse, zone
from simulator.flows.common import Flow
from simulator.flows.inventory import inventory_change
from simulator.records import Emission, Story

__all__ = ["purchase_order"]


def purchase_order(
    flow: Flow,
    *,
    at: datetime,
    supplier: Supplier,
    warehouse: Warehouse,
    sku: Sku,
    quantity: int,
    on_hand: int,
) -> Story:
    """Every event of one purchase order, including the stock change its receipt causes."""
    estate, ids = flow.estate, flow.ids
    erp_po = ids.erp("purchase_order")
    # The ERP sends its own number in the 850; the supplier quotes it back as the PO number.
    po = erp_po
    refs = (("purchase_order", "po_number", po),)
    value = round(sku.price * quantity * 0.55, 2)  # bought at cost
    attrs: dict[str, object] = {
        "supplier": supplier.code,
        "partner": supplier.partner,
        "sku": sku.code,
        "quantity": quantity,
        "value": value,
        "currency": warehouse.currency,
        "facility": warehouse.code,
    }

    def edi(at: datetime, step: str, keys: dict[str, str], extra: dict[str, object]) -> Emission:
        return flow.emit(
            at,
            source=estate.edi_source,
            system="edi",
            type=step,
            object_type="purchase_order",
            keys=keys,
            journeys=refs,
            attributes=extra,
        )

    sent = at + flow.minutes(5, 45)
    acked_850 = sent + flow.minutes(5, 60)
    confirmed = sent + flow.hours(0.5, 3.5)
    asn_at = confirmed + flow.days(1, 4)
    received = flow.on_shift(asn_at + flow.hours(12, 48), warehouse)
    invoiced = received + flow.days(0.1, 2)
    matched = invoiced + flow.hours(1, 24)
    control_850, control_855 = ids.edi_control(), ids.edi_control()

    out: list[Emission] = [
        flow.emit(
            at,
            source=estate.erp_source,
            system="erp",
            type="purchase_order.created",
            object_type="purchase_order",
            keys={"erp_purchase_order": erp_po},
            journeys=refs,
            attributes=attrs,
        ),
        edi(
            sent,
            "edi.850.sent",
            {"erp_purchase_order": erp_po, "po_number": po},
            {**attrs, "control_number": control_850},
        ),
        edi(
            acked_850,
            "edi.997.received",
            {"po_number": po},
            {"partner": supplier.partner, "acknowledges": "850"},
        ),
        edi(
            confirmed,
            "edi.855.received",
            {"po_number": po},
            {**attrs, "control_number": control_855},
        ),
        edi(
            confirmed + flow.minutes(0.5, 5),
            "edi.997.sent",
            {"po_number": po},
            {"partner": supplier.partner, "acknowledges": "855"},
        ),
        edi(asn_at, "edi.856.received", {"po_number": po}, {**attrs, "asn_number": ids.asn()}),
        flow.emit(
            received,
            source=warehouse.source,
            system="wms",
            type="purchase_order.received",
            object_type="purchase_order",
            keys={"po_number": po},
            journeys=refs,
            tz=zone(warehouse.tz),
            facility=warehouse.code,
            attributes={**attrs, "receipt": ids.receipt(warehouse)},
        ),
        edi(
            invoiced,
            "edi.810.received",
            {"po_number": po},
            {**attrs, "supplier_invoice": ids.supplier_invoice(supplier)},
        ),
        flow.emit(
            matched,
            source=estate.erp_source,
            system="erp",
            type="invoice.matched",
            object_type="purchase_order",
            keys={"erp_purchase_order": erp_po, "po_number": po},
            journeys=refs,
            attributes=attrs,
        ),
    ]
    out.extend(
        inventory_change(
            flow,
            at=received + flow.minutes(1, 20),
            warehouse=warehouse,
            sku=sku,
            quantity=quantity,
            on_hand=on_hand + quantity,
            step="inventory.received",
            extra={"po_number": po, "reason": "goods receipt"},
        )
    )
    return Story(kind="purchase_order", start=at, emissions=out)
