"""Realistic canonical events for the benchmarks, generated once into an NDJSON file and reused.

Order journeys cross the OMS, middleware, ERP, WMS, EDI, TMS and carriers, with every alias each
system knows in `keys`, shipments and invoices that point at their orders in `related`, and the
stock changes of several facilities in between. Journeys of one wave of orders interleave, as
in a live stream. Seeded, so the same size always gives the same bytes.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

__all__ = ["events_file", "wave"]

GENERATOR_VERSION = 1  # bump when the events change, so stale files are not reused
ORDERS_PER_WAVE = 500
WAVE_SECONDS = 90.0
START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
STOCK_CHANGES_PER_STEP = ORDERS_PER_WAVE // 10
DUMPS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z

Event = dict[str, Any]


def _zone(hours: int) -> timezone:
    return UTC if hours == 0 else timezone(timedelta(hours=hours))


FACILITIES = {
    code: _zone(hours)
    for code, hours in (
        ("DC-EAST", -5),
        ("DC-WEST", -8),
        ("DC-CENTRAL", -6),
        ("DC-SOUTH", -6),
        ("3PL-NJ", -5),
    )
}
FACILITY_CODES = tuple(FACILITIES)
CHANNELS = ("webshop", "amazon", "edi", "phone", "marketplace")
CARRIERS = ("ups", "fedex", "dhl", "usps")
CURRENCIES = ("USD", "USD", "USD", "CAD", "EUR")
SKUS = tuple(f"SKU-{n:05d}" for n in range(10_000, 15_000))
CUSTOMERS = tuple(f"CUST-{n:04d}" for n in range(1, 801))
PARTNERS = ("WALMART", "TARGET", "COSTCO", "HOMEDEPOT", "KROGER")
ZONES = {"oms": _zone(0), "mw": _zone(0), "erp": _zone(1), "edi": _zone(0), "carrier": _zone(0)}
ERP_ERRORS = (
    "IDoc ORDERS05 status 51: customer 0000100234 is blocked for sales",
    "IDoc ORDERS05 status 51: material not maintained in plant 1000",
)


def stamp(epoch: float, zone: timezone) -> datetime:
    """A time in a source's own zone, to the millisecond (orjson writes it as RFC 3339)."""
    return datetime.fromtimestamp(round(epoch, 3), zone)


def event(
    *,
    event_id: str,
    at: datetime,
    source: str,
    system: str,
    type: str,
    object_type: str,
    keys: dict[str, str],
    **optional: Any,
) -> Event:
    """A canonical event; optional fields (facility, attributes, related, ...) as given."""
    out: Event = {
        "event_id": event_id,
        "occurred_at": at,
        "source": source,
        "system": system,
        "type": type,
        "object_type": object_type,
        "keys": keys,
    }
    out.update(optional)
    return out


@dataclass(slots=True)
class Order:
    """One order and the ids every system gives it and its shipment and invoice."""

    n: int
    at: float  # epoch seconds of the next step; each step moves it on
    facility: str
    channel: str
    customer: str
    sku: str
    quantity: int
    value: float
    currency: str
    carrier: str
    tracking: str
    partner: str | None  # EDI orders only
    consolidated_with: tuple[int, ...]

    @property
    def oms(self) -> str:
        return f"W-{1_000_000 + self.n}"

    @property
    def channel_order(self) -> str:
        return f"{self.channel[:4].upper()}-{7_300_000 + self.n * 7}"

    @property
    def sales_order(self) -> str:
        return str(4_500_000_000 + self.n)

    @property
    def wms_order(self) -> str:
        return f"{self.facility}-OB-{self.n}"

    @property
    def delivery(self) -> str:
        return str(80_000_000 + self.n)

    @property
    def shipment(self) -> str:
        return f"SH-{self.n:08d}"

    @property
    def wms_zone(self) -> timezone:
        return FACILITIES[self.facility]

    def later(self, rng: random.Random, low_minutes: float, high_minutes: float) -> None:
        """Move the order's clock on by a random delay."""
        self.at += rng.uniform(low_minutes, high_minutes) * 60


def new_order(rng: random.Random, n: int, at: float, wave_start: int) -> Order:
    channel = rng.choice(CHANNELS)
    quantity = rng.randint(1, 24)
    neighbours = rng.sample(range(wave_start, n), min(n - wave_start, rng.randint(1, 2)))
    return Order(
        n=n,
        at=at,
        facility=rng.choice(FACILITY_CODES),
        channel=channel,
        customer=rng.choice(CUSTOMERS),
        sku=rng.choice(SKUS),
        quantity=quantity,
        value=round(quantity * rng.uniform(4.0, 180.0), 2),
        currency=rng.choice(CURRENCIES),
        carrier=rng.choice(CARRIERS),
        tracking=f"1Z{rng.getrandbits(60):016X}",
        partner=rng.choice(PARTNERS) if channel == "edi" else None,
        consolidated_with=tuple(neighbours) if rng.random() < 0.2 else (),
    )


# -- the steps of an order journey: each returns its event, or None when the step is skipped ---


def order_accepted(o: Order, rng: random.Random) -> Event:
    o.later(rng, 0, 2)
    return event(
        event_id=f"oms.web:{o.oms}:accepted",
        at=stamp(o.at, ZONES["oms"]),
        source="oms.web",
        system="oms",
        type="order.accepted",
        object_type="order",
        keys={"oms_order": o.oms, "channel_order": o.channel_order},
        attributes={
            "customer": o.customer,
            "channel": o.channel,
            "value": o.value,
            "currency": o.currency,
            "priority": "expedite" if rng.random() < 0.1 else "standard",
            "lines": [{"sku": o.sku, "quantity": o.quantity}],
        },
    )


def order_forwarded(o: Order, rng: random.Random) -> Event:
    o.later(rng, 0, 0.5)
    return event(
        event_id=f"mw.rabbitmq:{o.oms}:orders.erp",
        at=stamp(o.at, ZONES["mw"]),
        source="mw.rabbitmq",
        system="middleware",
        type="order.forwarded",
        object_type="order",
        keys={"oms_order": o.oms, "channel_order": o.channel_order},
        correlation_id=f"{rng.getrandbits(128):032x}",
        attributes={"queue": "orders.erp", "exchange": "orders", "bytes": rng.randint(900, 4000)},
    )


def sales_order_created(o: Order, rng: random.Random) -> Event:
    o.later(rng, 0.5, 10)
    keys = {"oms_order": o.oms, "channel_order": o.channel_order, "erp_sales_order": o.sales_order}
    attributes: dict[str, Any] = {"customer": o.customer, "value": o.value, "currency": o.currency}
    if o.partner is not None:
        keys["po_number"] = f"{o.partner}-PO-{o.n}"
        attributes["partner"] = o.partner
    failed = {"status": "error", "error": rng.choice(ERP_ERRORS)} if rng.random() < 0.01 else {}
    return event(
        event_id=f"erp.s4:{o.sales_order}:created",
        at=stamp(o.at, ZONES["erp"]),
        source="erp.s4",
        system="erp",
        type="erp.sales_order.created",
        object_type="order",
        keys=keys,
        attributes=attributes | {"sales_org": "1000"},
        **failed,
    )


def order_allocated(o: Order, rng: random.Random) -> Event:
    o.later(rng, 5, 120)
    return _wms_order_event(o, "allocated", {"sku": o.sku, "quantity": o.quantity, "wave": o.n})


def order_picked(o: Order, rng: random.Random) -> Event:
    o.later(rng, 10, 180)
    return _wms_order_event(o, "picked", {"sku": o.sku, "quantity": o.quantity, "picker": "RF-12"})


def order_packed(o: Order, rng: random.Random) -> Event | None:
    if rng.random() < 0.4:
        return None
    o.later(rng, 5, 60)
    cartons = 1 + o.quantity // 8
    return _wms_order_event(o, "packed", {"cartons": cartons, "weight_kg": round(cartons * 3.7, 1)})


def _wms_order_event(o: Order, step: str, attributes: dict[str, Any]) -> Event:
    source = f"wms.{o.facility.lower()}"
    return event(
        event_id=f"{source}:{o.wms_order}:{step}",
        at=stamp(o.at, o.wms_zone),
        source=source,
        system="wms",
        facility=o.facility,
        type=f"order.{step}",
        object_type="order",
        keys={
            "erp_sales_order": o.sales_order,
            "wms_order": o.wms_order,
            "erp_delivery": o.delivery,
        },
        attributes=attributes,
    )


def shipment_shipped(o: Order, rng: random.Random) -> Event:
    o.later(rng, 30, 240)
    source = f"wms.{o.facility.lower()}"
    orders = [{"object_type": "order", "keys": {"wms_order": o.wms_order}}]
    orders += [
        {"object_type": "order", "keys": {"oms_order": f"W-{1_000_000 + m}"}}
        for m in o.consolidated_with
    ]
    return event(
        event_id=f"{source}:{o.shipment}:shipped",
        at=stamp(o.at, o.wms_zone),
        source=source,
        system="wms",
        facility=o.facility,
        type="shipment.shipped",
        object_type="shipment",
        keys={
            "wms_shipment": o.shipment,
            "erp_delivery": o.delivery,
            "carrier_tracking": o.tracking,
        },
        attributes={"carrier": o.carrier, "service": "ground", "cartons": 1 + o.quantity // 8},
        related=orders,
    )


def asn_sent(o: Order, rng: random.Random) -> Event | None:
    if o.partner is None:
        return None
    o.later(rng, 1, 30)
    return event(
        event_id=f"edi.van:856:{o.n}",
        at=stamp(o.at, ZONES["edi"]),
        source="edi.van",
        system="edi",
        type="edi.856.sent",
        object_type="shipment",
        keys={"asn_number": f"ASN-{o.n}", "wms_shipment": o.shipment},
        attributes={"partner": o.partner, "edi_control_number": str(100_000_000 + o.n)},
        related=[{"object_type": "order", "keys": {"po_number": f"{o.partner}-PO-{o.n}"}}],
    )


def shipment_in_transit(o: Order, rng: random.Random) -> Event | None:
    if rng.random() < 0.5:
        return None
    o.later(rng, 60, 600)
    return _carrier_event(o, "in_transit", {"carrier": o.carrier, "city": "Columbus, OH"})


def shipment_delivered(o: Order, rng: random.Random) -> Event:
    o.later(rng, 600, 3000)
    return _carrier_event(o, "delivered", {"carrier": o.carrier, "signed_by": "FRONT DESK"})


def _carrier_event(o: Order, step: str, attributes: dict[str, Any]) -> Event:
    source = f"carrier.{o.carrier}"
    return event(
        event_id=f"{source}:{o.tracking}:{step}",
        at=stamp(o.at, ZONES["carrier"]),
        source=source,
        system="carrier",
        type=f"shipment.{step}",
        object_type="shipment",
        keys={"carrier_tracking": o.tracking, "wms_shipment": o.shipment},
        attributes=attributes,
    )


def invoice_posted(o: Order, rng: random.Random) -> Event:
    o.later(rng, 60, 1440)
    invoice = str(90_000_000 + o.n)
    return event(
        event_id=f"erp.s4:{invoice}:posted",
        at=stamp(o.at, ZONES["erp"]),
        source="erp.s4",
        system="erp",
        type="invoice.posted",
        object_type="invoice",
        keys={"erp_invoice": invoice, "invoice_number": f"INV-{invoice}"},
        attributes={"customer": o.customer, "value": o.value, "currency": o.currency},
        related=[
            {"object_type": "order", "keys": {"erp_sales_order": o.sales_order}},
            {"object_type": "shipment", "keys": {"erp_delivery": o.delivery}},
        ],
    )


ORDER_STEPS: tuple[Callable[[Order, random.Random], Event | None], ...] = (
    order_accepted,
    order_forwarded,
    sales_order_created,
    order_allocated,
    order_picked,
    order_packed,
    shipment_shipped,
    asn_sent,
    shipment_in_transit,
    shipment_delivered,
    invoice_posted,
)


def stock_change(rng: random.Random, n: int, at: float) -> list[Event]:
    """One stock change as it travels: counted in the WMS, carried by middleware, posted."""
    facility = rng.choice(FACILITY_CODES)
    kind = rng.choice(("adjusted", "adjusted", "received", "counted"))
    change, adjustment = f"IC-{n:09d}", f"ADJ-{facility}-{n}"
    attributes = {"sku": rng.choice(SKUS), "quantity": rng.randint(-40, 120), "uom": "EA"}
    common: dict[str, Any] = {
        "object_type": "inventory",
        "facility": facility,
        "attributes": attributes,
    }
    published = at + rng.uniform(5, 120)
    posted = published + rng.uniform(30, 600)
    return [
        event(
            event_id=f"wms:{adjustment}",
            at=stamp(at, FACILITIES[facility]),
            source=f"wms.{facility.lower()}",
            system="wms",
            type=f"inventory.{kind}",
            keys={"inventory_change": change, "wms_adjustment": adjustment},
            **common,
        ),
        event(
            event_id=f"mw:{change}:published",
            at=stamp(published, ZONES["mw"]),
            source="mw.rabbitmq",
            system="middleware",
            type="inventory.published",
            keys={"inventory_change": change, "mw_message_id": f"msg-{rng.getrandbits(64):016x}"},
            **common,
        ),
        event(
            event_id=f"erp:{change}:posted",
            at=stamp(posted, ZONES["erp"]),
            source="erp.s4",
            system="erp",
            type="inventory.posted",
            keys={"inventory_change": change, "erp_material_document": str(49_000_000_000 + n)},
            **common,
        ),
    ]


def wave(seed: int, number: int) -> Iterator[Event]:
    """The events of one wave of orders, step by step across all of them, stock changes between.

    Each wave has its own random stream, so waves can be made in parallel and still come out
    the same.
    """
    rng = random.Random(seed * 1_000_003 + number)
    first = number * ORDERS_PER_WAVE
    start = START + number * WAVE_SECONDS
    orders = [
        new_order(rng, first + i, start + rng.uniform(0, WAVE_SECONDS), first)
        for i in range(ORDERS_PER_WAVE)
    ]
    changes = 0
    for step in ORDER_STEPS:
        for order in orders:
            found = step(order, rng)
            if found is not None:
                yield found
        for _ in range(STOCK_CHANGES_PER_STEP):
            yield from stock_change(rng, number * 10_000 + changes, start + rng.uniform(0, 86_400))
            changes += 1


def wave_lines(seed: int, number: int) -> list[bytes]:
    """One wave as NDJSON lines."""
    return [orjson.dumps(e, option=DUMPS) for e in wave(seed, number)]


def events_file(out_dir: Path, count: int, *, seed: int = 2026) -> Path:
    """The NDJSON file of `count` events: generated on first use (on every core), then reused."""
    path = out_dir / f"events-v{GENERATOR_VERSION}-seed{seed}-{count}.ndjson"
    if path.exists():
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    workers = os.cpu_count() or 1
    left, number = count, 0
    spawn = multiprocessing.get_context("spawn")
    # The workers make millions of short-lived acyclic dicts: the cycle collector only costs.
    pool = ProcessPoolExecutor(workers, mp_context=spawn, initializer=gc.disable)
    with pool, partial.open("wb") as fh:
        while left:
            numbers = range(number, number + 4 * workers)
            for lines in pool.map(functools.partial(wave_lines, seed), numbers):
                fh.writelines(lines[:left])
                left -= min(left, len(lines))
            number = numbers.stop
    partial.replace(path)
    return path
