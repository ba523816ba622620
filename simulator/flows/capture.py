"""Order capture: from the channel (web shop, marketplace or EDI partner) through the OMS to an
accepted ERP sales order, plus the EDI documents that go back to a partner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from simulator.estate import Customer, Sku, Warehouse
from simulator.flows.common import Flow
from simulator.records import Emission, JourneyRef

__all__ = ["Order", "OrderPlan", "attributes", "capture", "edi_out"]


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """One order as the customer places it."""

    at: datetime
    customer: Customer
    sku: Sku
    quantity: int
    express: bool


@dataclass(slots=True)
class Order:
    """An order while it is generated: its number in each system and when things happened."""

    plan: OrderPlan
    oms: str
    so: str
    wms: str
    ref: JourneyRef
    edi_po: str | None = None
    accepted_at: datetime | None = None
    packed_at: datetime | None = None

    @property
    def value(self) -> float:
        return round(self.plan.sku.price * self.plan.quantity, 2)


def attributes(order: Order, warehouse: Warehouse) -> dict[str, object]:
    """What every system says about an order besides its IDs."""
    plan = order.plan
    return {
        "customer": plan.customer.code,
        "channel": plan.customer.channel,
        "value": order.value,
        "currency": warehouse.currency,
        "sku": plan.sku.code,
        "quantity": plan.quantity,
        "priority": "express" if plan.express else "standard",
    }


def capture(flow: Flow, *, plan: OrderPlan, warehouse: Warehouse) -> tuple[Order, list[Emission]]:
    """One order from the channel to an accepted ERP sales order, and the events on the way."""
    out: list[Emission] = []
    estate, ids, channel = flow.estate, flow.ids, plan.customer.channel
    order = Order(
        plan=plan,
        oms=ids.oms_order(channel),
        so=ids.erp("sales_order"),
        wms=ids.wms_order(warehouse),
        ref=("order", "oms_order", ""),
    )
    order.ref = ("order", "oms_order", order.oms)
    attrs = attributes(order, warehouse)
    refs = (order.ref,)
    oms_keys: dict[str, str] = {"oms_order": order.oms}
    t = plan.at
    if channel == "web":
        out.append(
            flow.emit(
                t,
                source=estate.oms_source,
                system="oms",
                type="order.received",
                object_type="order",
                keys={"oms_order": order.oms},
                journeys=refs,
                attributes=attrs,
            )
        )
        t += flow.minutes(0.1, 1.5)
    elif channel == "marketplace":
        channel_order = ids.channel_order()
        out.append(
            flow.emit(
                t,
                source=dict(estate.channel_sources)["marketplace"],
                system="channel",
                type="channel.order.created",
                object_type="order",
                keys={"channel_order": channel_order},
                journeys=refs,
                attributes=attrs,
            )
        )
        oms_keys["channel_order"] = channel_order
        t += flow.minutes(1, 5)
    else:
        customer = plan.customer
        order.edi_po = ids.partner_po(customer)
        control = ids.edi_control()
        edi_attrs = {**attrs, "partner": customer.partner, "control_number": control}
        out.append(
            flow.emit(
                t,
                source=estate.edi_source,
                system="edi",
                type="edi.850.received",
                object_type="order",
                keys={"edi_po_number": order.edi_po},
                journeys=refs,
                attributes=edi_attrs,
            )
        )
        out.append(
            flow.emit(
                t + flow.minutes(0.5, 2),
                source=estate.edi_source,
                system="edi",
                type="edi.997.sent",
                object_type="order",
                keys={"edi_po_number": order.edi_po},
                journeys=refs,
                attributes={
                    "partner": customer.partner,
                    "acknowledges": "850",
                    "control_number": control,
                },
            )
        )
        oms_keys["edi_po_number"] = order.edi_po
        t += flow.minutes(2, 10)
    out.append(
        flow.emit(
            t,
            source=estate.oms_source,
            system="oms",
            type="order.validated",
            object_type="order",
            keys=oms_keys,
            journeys=refs,
            attributes=attrs,
        )
    )
    # The ERP learns the OMS number from the interface and answers with its own: this event
    # is what ties the two IDs together.
    order.accepted_at = t + flow.minutes(1, 8)
    out.append(
        flow.emit(
            order.accepted_at,
            source=estate.erp_source,
            system="erp",
            type="order.accepted",
            object_type="order",
            keys={"oms_order": order.oms, "erp_sales_order": order.so},
            journeys=refs,
            attributes=attrs,
        )
    )
    if order.edi_po is not None:
        out += edi_out(
            flow,
            at=order.accepted_at + flow.minutes(10, 40),
            doc="855",
            object_type="order",
            keys={"edi_po_number": order.edi_po, "erp_sales_order": order.so},
            journeys=refs,
            customer=plan.customer,
        )
    return order, out


def edi_out(
    flow: Flow,
    *,
    at: datetime,
    doc: str,
    object_type: str,
    keys: dict[str, str],
    journeys: tuple[JourneyRef, ...],
    customer: Customer,
    related: list[dict[str, object]] | None = None,
) -> list[Emission]:
    """An outbound EDI document to a customer and the partner's 997 for it."""
    estate = flow.estate
    control = flow.ids.edi_control()
    attrs = {"partner": customer.partner, "control_number": control}
    ack_key = next(iter(keys.items()))  # the partner acknowledges the document by its own number
    return [
        flow.emit(
            at,
            source=estate.edi_source,
            system="edi",
            type=f"edi.{doc}.sent",
            object_type=object_type,
            keys=keys,
            journeys=journeys,
            attributes=attrs,
            related=related,
        ),
        flow.emit(
            at + flow.minutes(5, 90),
            source=estate.edi_source,
            system="edi",
            type="edi.997.received",
            object_type=object_type,
            keys=dict([ack_key]),
            journeys=journeys,
            attributes={**attrs, "acknowledges": doc},
        ),
    ]
