"""The order flow: capture in a channel, the ERP, a warehouse, a carrier, billing, returns.

One story is one shipment group: one to three orders of the same customer that leave the same
warehouse in one shipment. Each order stays its own journey; the shipment and the invoice refer
to them through `related`, never as aliases.
"""

from __future__ import annotations

from simulator.estate import Warehouse, zone
from simulator.flows.capture import Order, OrderPlan, attributes, capture, edi_out
from simulator.flows.common import Flow, related_orders
from simulator.flows.returns import customer_return
from simulator.records import Emission, Story

__all__ = ["OrderPlan", "order_group"]


def order_group(
    flow: Flow, *, plans: list[OrderPlan], warehouse: Warehouse, return_rate: float
) -> Story:
    """Every event of a group of orders, from capture to payment (and a return, sometimes)."""
    out: list[Emission] = []
    orders: list[Order] = []
    cancelled = False
    for plan in plans:
        order, captured = capture(flow, plan=plan, warehouse=warehouse)
        orders.append(order)
        out += captured
        # Cancellation only for single orders: a cancelled order leaves its group otherwise.
        if flow.rng.random() < 0.004 and len(plans) == 1:
            assert order.accepted_at is not None
            out.append(
                flow.emit(
                    order.accepted_at + flow.hours(0.2, 3),
                    source=flow.estate.oms_source,
                    system="oms",
                    type="order.cancelled",
                    object_type="order",
                    keys={"oms_order": order.oms, "erp_sales_order": order.so},
                    journeys=(order.ref,),
                    attributes={"reason": "customer request"},
                )
            )
            cancelled = True
    if not cancelled:
        _fulfil(flow, orders, warehouse, out, return_rate)
    return Story(kind="order", start=plans[0].at, emissions=out)


def _fulfil(
    flow: Flow, orders: list[Order], wh: Warehouse, out: list[Emission], return_rate: float
) -> None:
    """Delivery, warehouse work, shipment, carrier, invoice, payment, returns."""
    estate, ids = flow.estate, flow.ids
    carrier = estate.carrier(wh.carrier)
    local = zone(wh.tz)
    customer = orders[0].plan.customer
    express = any(o.plan.express for o in orders)
    delivery = ids.erp("delivery")
    shipment = ids.wms_shipment(wh)
    tracking = ids.tracking(carrier)
    order_refs = tuple(o.ref for o in orders)
    ship_refs = (*order_refs, ("shipment", "wms_shipment", shipment))
    by_so = related_orders("erp_sales_order", [o.so for o in orders])
    total = round(sum(o.value for o in orders), 2)
    group = {
        "customer": customer.code,
        "channel": customer.channel,
        "value": total,
        "currency": wh.currency,
        "orders": len(orders),
        "facility": wh.code,
    }

    ready = max(o.accepted_at for o in orders if o.accepted_at is not None)
    released = ready + flow.minutes(5, 30)
    out.append(
        flow.emit(
            released,
            source=estate.erp_source,
            system="erp",
            type="shipment.created",
            object_type="shipment",
            keys={"erp_delivery": delivery},
            journeys=ship_refs,
            facility=wh.code,
            related=by_so,
            attributes=group,
        )
    )
    for order in orders:
        keys = {"wms_order": order.wms, "erp_sales_order": order.so}
        attrs = attributes(order, wh)
        refs = (order.ref,)
        # The WMS allocates as soon as the delivery arrives; picking needs people on the floor;
        # what was picked gets packed.
        allocated = released + flow.minutes(2, 20)
        picked = flow.on_shift(
            allocated + (flow.minutes(10, 45) if express else flow.minutes(20, 120)), wh
        )
        order.packed_at = picked + flow.minutes(5, 30)
        for step, at, extra in (
            ("order.allocated", allocated, {}),
            ("order.picked", picked, {"pick_id": ids.pick(wh)}),
            ("order.packed", order.packed_at, {}),
        ):
            out.append(
                flow.emit(
                    at,
                    source=wh.source,
                    system="wms",
                    type=step,
                    object_type="order",
                    keys=keys,
                    journeys=refs,
                    tz=local,
                    facility=wh.code,
                    attributes={**attrs, **extra},
                )
            )

    # Carrier pickups run into the night; the group leaves together once its last order is packed.
    shipped = max(o.packed_at for o in orders if o.packed_at is not None) + flow.minutes(30, 180)
    out.append(
        flow.emit(
            shipped,
            source=wh.source,
            system="wms",
            type="shipment.shipped",
            object_type="shipment",
            keys={"wms_shipment": shipment, "erp_delivery": delivery, "carrier_tracking": tracking},
            journeys=ship_refs,
            tz=local,
            facility=wh.code,
            related=by_so,
            attributes={
                **group,
                "carrier": carrier.code,
                "packages": flow.rng.randint(1, 2 + 2 * len(orders)),
            },
        )
    )
    if customer.channel == "edi":
        by_po = related_orders("edi_po_number", [o.edi_po for o in orders if o.edi_po])
        out += edi_out(
            flow,
            at=shipped + flow.minutes(10, 60),
            doc="856",
            object_type="shipment",
            keys={"asn_number": ids.asn(), "carrier_tracking": tracking},
            journeys=ship_refs,
            customer=customer,
            related=by_po,
        )
    in_transit = shipped + flow.hours(2, 8)
    delivered = in_transit + (flow.hours(12, 30) if express else flow.days(1, 2.5))
    for step, at in (("shipment.in_transit", in_transit), ("shipment.delivered", delivered)):
        out.append(
            flow.emit(
                at,
                source=carrier.source,
                system="carrier",
                type=step,
                object_type="shipment",
                keys={"carrier_tracking": tracking},
                journeys=ship_refs,
                attributes={"carrier": carrier.code},
            )
        )

    invoice = ids.erp("invoice")
    inv_refs = (*order_refs, ("invoice", "erp_invoice", invoice))
    # Billed on proof of delivery, as the order journey model expects (delivered, then invoiced).
    posted = delivered + flow.hours(1, 20)
    out.append(
        flow.emit(
            posted,
            source=estate.erp_source,
            system="erp",
            type="invoice.posted",
            object_type="invoice",
            keys={"erp_invoice": invoice},
            journeys=inv_refs,
            related=by_so,
            attributes=group,
        )
    )
    if customer.channel == "edi":
        by_po = related_orders("edi_po_number", [o.edi_po for o in orders if o.edi_po])
        out += edi_out(
            flow,
            at=posted + flow.minutes(15, 120),
            doc="810",
            object_type="invoice",
            keys={"invoice_number": ids.customer_invoice_number(invoice), "erp_invoice": invoice},
            journeys=inv_refs,
            customer=customer,
            related=by_po,
        )
    # Consumers paid at checkout: the OMS settles the captured payment against the invoice.
    # Partners pay on terms, and the ERP's cash application clears the invoice.
    if customer.channel == "edi":
        paid, source, system, step = (
            posted + flow.days(10, 45),
            estate.erp_source,
            "erp",
            "invoice.paid",
        )
    else:
        paid, source, system, step = (
            posted + flow.hours(1, 30),
            estate.oms_source,
            "oms",
            "payment.received",
        )
    out.append(
        flow.emit(
            paid,
            source=source,
            system=system,
            type=step,
            object_type="invoice",
            keys={"erp_invoice": invoice},
            journeys=inv_refs,
            attributes={"customer": customer.code, "value": total, "currency": wh.currency},
        )
    )
    for order in orders:
        if flow.rng.random() < return_rate and customer.channel != "edi":
            out.extend(
                customer_return(
                    flow,
                    delivered=delivered,
                    oms_order=order.oms,
                    sales_order=order.so,
                    warehouse=wh,
                    attributes=attributes(order, wh),
                )
            )
