"""The warehouse transaction sets (940, 945, 846) and TA1, as adapters/x12.py maps them.

Each function reads one transaction set (through the x12 module's context: `first`, `all`,
`control_key`, the interchange) and says what its event is about; x12.py builds the event with
the envelope attributes every X12 event carries. The 940 and the 945 that answers it join by
the depositor's order number (W05-02 = W06-02, key `depositor_order`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.x12 import Segment, _Context

__all__ = ["SETS", "Mapped"]

TA1_STATUS = {"A": "accepted", "E": "accepted_with_errors", "R": "rejected"}
ITEM_QUALIFIERS = ("SK", "BP", "VN", "UP", "IN", "EN", "UK")  # the first one found is the SKU
MAX_ITEMS = 500  # an 846 may list thousands of items; the count says how many there were


@dataclass(slots=True)
class Mapped:
    object_type: str
    keys: dict[str, str]
    attributes: dict[str, Any] = field(default_factory=dict)
    related: list[dict[str, Any]] = field(default_factory=list)
    when: datetime | None = None
    status: str = "ok"
    error: str | None = None


def shipping_order(c: _Context) -> Mapped:
    """940: a warehouse shipping order, keyed by the depositor's order number (W05-02)."""
    w05 = c.first("W05")
    order = w05.get(2) if w05 else ""
    attrs = {
        "order_status": w05.get(1) if w05 else None,
        "customer_po": w05.get(3) if w05 else None,
        "master_reference": w05.get(5) if w05 else None,
        "lines": len(c.all("W01")) or len(c.all("LX")),
    } | _parties(c)
    if not order:
        return Mapped("edi_document", {"edi_control_number": c.control_key}, attrs)
    return Mapped("order", {"depositor_order": order, "edi_control_number": c.control_key}, attrs)


def shipping_advice(c: _Context) -> Mapped:
    """945: the warehouse shipped an order; the shipment (W06-04) is linked."""
    w06 = c.first("W06")
    order = w06.get(2) if w06 else ""
    shipment = w06.get(4) if w06 else ""
    bol = next((n.get(2) for n in c.all("N9") if n.get(1) == "BM"), "")
    attrs = {
        "shipment_id": shipment,
        "customer_po": w06.get(6) if w06 else None,
        "bill_of_lading": bol,
        "lines": len(c.all("W12")) or len(c.all("LX")),
        "quantity": _number(w03.get(1)) if (w03 := c.first("W03")) else None,
    } | _parties(c)
    when = _when(c, w06.get(3)) if w06 else None
    related = [{"object_type": "shipment", "keys": {"wms_shipment": shipment}}] if shipment else []
    if order:
        keys = {"depositor_order": order, "edi_control_number": c.control_key}
        return Mapped("order", keys, attrs, related, when)
    if shipment:
        keys = {"wms_shipment": shipment, "edi_control_number": c.control_key}
        return Mapped("shipment", keys, attrs, [], when)
    return Mapped("edi_document", {"edi_control_number": c.control_key}, attrs, [], when)


def inventory_advice(c: _Context) -> Mapped:
    """846: stock positions by item (LIN) with their quantities (QTY)."""
    bia = c.first("BIA")
    items: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for seg in c.ts.segments:
        if seg.tag == "LIN":
            current = {"sku": _item(seg)}
            items.append(current)
        elif seg.tag == "QTY" and current is not None and "quantity" not in current:
            current["quantity"] = _number(seg.get(2))
            current["quantity_qualifier"] = seg.get(1)
    attrs = {
        "report_type": bia.get(2) if bia else None,
        "reference": bia.get(3) if bia else None,
        "items_total": len(items),
        "items": items[:MAX_ITEMS],
    }
    when = _when(c, bia.get(4), bia.get(5)) if bia else None
    return Mapped("inventory", {"edi_control_number": c.control_key}, attrs, [], when)


def interchange_ack(c: _Context) -> Mapped:
    """TA1: the partner's answer to a whole interchange (TA1-01 is its ISA13)."""
    ta1 = c.ts.segments[0]
    status = TA1_STATUS.get(ta1.get(4), ta1.get(4))
    target = f"{c.interchange.receiver}/{ta1.get(1)}"  # the TA1 goes back to the sender
    attrs = {"acknowledges_interchange": ta1.get(1), "ack_status": status, "note": ta1.get(5)}
    rejected = status == "rejected"
    error = f"interchange {ta1.get(1)} rejected by the partner (TA1 note {ta1.get(5)})"
    return Mapped(
        "edi_document",
        {"edi_control_number": target},
        attrs,
        [],
        _when(c, ta1.get(2), ta1.get(3)),
        "error" if rejected else "ok",
        error if rejected else None,
    )


SETS: dict[str, Callable[[_Context], Mapped]] = {
    "940": shipping_order,
    "945": shipping_advice,
    "846": inventory_advice,
    "TA1": interchange_ack,
}


def _parties(c: _Context) -> dict[str, Any]:
    """Ship-to and warehouse names from the N1 loops, where given."""
    out = {}
    for seg in c.all("N1"):
        role = {"ST": "ship_to", "WH": "warehouse", "SF": "ship_from"}.get(seg.get(1))
        if role and role not in out:
            out[role] = seg.get(4) or seg.get(2)
    return out


def _item(lin: Segment) -> str | None:
    pairs = [(lin.get(i), lin.get(i + 1)) for i in range(2, len(lin.elements), 2)]
    for qualifier in ITEM_QUALIFIERS:
        for found, value in pairs:
            if found == qualifier and value:
                return value
    return next((value for _, value in pairs if value), None)


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _when(c: _Context, day: str, time: str = "") -> datetime | None:
    from adapters.x12 import _date  # the one date reader of X12; imported late (no cycle)

    return _date(day, time, c.zone)
