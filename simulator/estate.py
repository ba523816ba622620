"""The simulated distributor's systems, sites, partners and the way each numbers its documents.

Real estates never share IDs: the OMS, the ERP, every WMS and the carrier each number their own
documents, and only the hand-offs between them reveal that two numbers mean the same order. The
numbering here copies that. Every number is built from the simulated day and a per-day counter,
so any two runs with the same seed agree on every document, whatever window they simulate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo

__all__ = [
    "CHANNELS",
    "EMITTED_TYPES",
    "Carrier",
    "Customer",
    "Estate",
    "IdBook",
    "Queue",
    "Sku",
    "Supplier",
    "Warehouse",
    "default_estate",
    "zone",
]

EPOCH = date(2000, 1, 1)

# The sales channels an order can come from (the `channel` attribute).
CHANNELS = ("web", "marketplace", "edi")

# Every event type the flows emit. Scenario files may only name these (a typo fails at load).
EMITTED_TYPES = (
    "channel.order.created",
    "order.received",
    "order.validated",
    "order.accepted",
    "order.cancelled",
    "order.allocated",
    "order.picked",
    "order.packed",
    "shipment.created",
    "shipment.shipped",
    "shipment.in_transit",
    "shipment.delivered",
    "invoice.posted",
    "invoice.paid",
    "payment.received",
    "edi.850.received",
    "edi.997.sent",
    "edi.855.sent",
    "edi.856.sent",
    "edi.810.sent",
    "edi.997.received",
    "return.authorised",
    "return.received",
    "return.inspected",
    "credit_memo.posted",
    "return.refunded",
    "inventory.adjusted",
    "inventory.received",
    "inventory.published",
    "inventory.posted",
    "inventory.channel_published",
    "purchase_order.created",
    "edi.850.sent",
    "edi.855.received",
    "edi.856.received",
    "purchase_order.received",
    "edi.810.received",
    "invoice.matched",
)


@cache
def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name, built once."""
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    source: str
    tracking_style: str  # "ups" | "fedex" | "dhl": each carrier's own number format


@dataclass(frozen=True, slots=True)
class Warehouse:
    """One distribution centre with its own WMS, time zone, shift and numbering."""

    code: str  # the facility code every system uses for the site
    source: str
    tz: str
    region: str  # the customers it serves first
    currency: str
    carrier: str
    wms_order_prefix: str
    shipment_prefix: str
    pick_prefix: str
    adjustment_prefix: str
    shift: tuple[int, int] = (5, 23)  # local hours the floor picks; picking waits for it


@dataclass(frozen=True, slots=True)
class Customer:
    code: str
    name: str
    region: str
    channel: str
    partner: str | None = None  # EDI trading-partner id, for EDI customers
    po_prefix: str | None = None  # how the partner numbers its purchase orders


@dataclass(frozen=True, slots=True)
class Supplier:
    code: str
    name: str
    partner: str  # EDI trading-partner id
    region: str


@dataclass(frozen=True, slots=True)
class Sku:
    code: str
    price: float


@dataclass(frozen=True, slots=True)
class Queue:
    """A middleware queue and the step that happens when its consumer takes a message."""

    name: str
    carries: str  # the event type the consuming system emits
    producer: str
    consumer: str


@dataclass(frozen=True, slots=True)
class Estate:
    """Everything the flows draw from. Fixed data: the same estate for every run."""

    warehouses: tuple[Warehouse, ...]
    carriers: tuple[Carrier, ...]
    customers: tuple[Customer, ...]
    suppliers: tuple[Supplier, ...]
    skus: tuple[Sku, ...]
    queues: tuple[Queue, ...]
    oms_source: str = "oms.core"
    erp_source: str = "erp.s4"
    edi_source: str = "edi.gateway"
    mw_source: str = "mw.rabbitmq"
    channel_sources: tuple[tuple[str, str], ...] = (
        ("web", "channel.webshop"),
        ("marketplace", "channel.markethub"),
    )

    def warehouse(self, code: str) -> Warehouse:
        return next(w for w in self.warehouses if w.code == code)

    def carrier(self, code: str) -> Carrier:
        return next(c for c in self.carriers if c.code == code)

    def queue_carrying(self, event_type: str) -> str | None:
        return next((q.name for q in self.queues if q.carries == event_type), None)

    @property
    def facility_codes(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.warehouses)

    @property
    def queue_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.queues)

    @property
    def partner_ids(self) -> tuple[str, ...]:
        customers = tuple(c.partner for c in self.customers if c.partner)
        return customers + tuple(s.partner for s in self.suppliers)

    @property
    def sku_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.skus)


def default_estate() -> Estate:
    """The demo distributor: three DCs on two continents, three channels, EDI both ways."""
    return _DEFAULT


_DEFAULT = Estate(
    warehouses=(
        Warehouse(
            code="DC-EAST",
            source="wms.dc-east",
            tz="America/New_York",
            region="us-east",
            currency="USD",
            carrier="UPS",
            wms_order_prefix="ORD",
            shipment_prefix="SHP",
            pick_prefix="PK",
            adjustment_prefix="ADJ",
        ),
        Warehouse(
            code="DC-WEST",
            source="wms.dc-west",
            tz="America/Los_Angeles",
            region="us-west",
            currency="USD",
            carrier="FEDEX",
            wms_order_prefix="7",
            shipment_prefix="LD",
            pick_prefix="W",
            adjustment_prefix="IA",
            shift=(4, 24),
        ),
        Warehouse(
            code="DC-EU",
            source="wms.dc-eu",
            tz="Europe/Amsterdam",
            region="eu",
            currency="EUR",
            carrier="DHL",
            wms_order_prefix="EWM",
            shipment_prefix="HU",
            pick_prefix="WT",
            adjustment_prefix="PI",
            shift=(6, 24),
        ),
    ),
    carriers=(
        Carrier("UPS", "carrier.ups", "ups"),
        Carrier("FEDEX", "carrier.fedex", "fedex"),
        Carrier("DHL", "carrier.dhl", "dhl"),
    ),
    customers=(
        Customer("C-1001", "Consumer (web)", "us-east", "web"),
        Customer("C-1002", "Consumer (web)", "us-west", "web"),
        Customer("C-1003", "Consumer (web)", "eu", "web"),
        Customer("C-2001", "MarketHub US", "us-east", "marketplace"),
        Customer("C-2002", "MarketHub US West", "us-west", "marketplace"),
        Customer("C-2003", "MarketHub EU", "eu", "marketplace"),
        Customer("C-3001", "ACME Retail", "us-east", "edi", "ACMERETAIL", "AR"),
        Customer("C-3002", "Northwind Stores", "us-west", "edi", "NORTHWIND", "NW"),
        Customer("C-3003", "Globex Handel", "eu", "edi", "GLOBEXEU", "GX"),
    ),
    suppliers=(
        Supplier("V-5001", "Initech Components", "INITECH", "us-east"),
        Supplier("V-5002", "Umbrella Packaging", "UMBRELLA", "us-west"),
        Supplier("V-5003", "Stark Industrial BV", "STARKBV", "eu"),
    ),
    skus=tuple(
        Sku(f"SKU-{10001 + i}", round(4.5 + (i * 37 % 23) * 3.25 + (i % 7) * 11.0, 2))
        for i in range(40)
    ),
    queues=(
        Queue("orders.oms-to-erp", "order.accepted", "oms", "erp"),
        Queue("deliveries.erp-to-wms", "order.allocated", "erp", "wms"),
        Queue("inventory.wms-to-erp", "inventory.posted", "wms", "erp"),
        Queue("inventory.erp-to-channels", "inventory.channel_published", "erp", "channel"),
    ),
)


@dataclass(slots=True)
class IdBook:
    """Document numbers for one simulated day, each system counting its own series."""

    day: date
    _counters: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def day_no(self) -> int:
        return (self.day - EPOCH).days

    def _next(self, series: str) -> int:
        self._counters[series] += 1
        return self._counters[series]

    def oms_order(self, channel: str) -> str:
        prefix = {"web": "W", "marketplace": "M", "edi": "E"}[channel]
        return f"{prefix}{self.day_no:05d}-{self._next('oms:' + channel):05d}"

    def channel_order(self) -> str:
        # MarketHub's own number: three groups of digits like the big marketplaces use.
        n = self._next("markethub")
        return f"113-{self.day_no:05d}{n // 100_000:02d}-{n % 100_000:07d}"

    def partner_po(self, customer: Customer) -> str:
        return f"{customer.po_prefix}{self.day_no:05d}{self._next('po:' + customer.code):04d}"

    def erp(self, document: str) -> str:
        """ERP number ranges by document type, as an ERP keeps them."""
        lead = {
            "sales_order": "45",
            "delivery": "80",
            "invoice": "90",
            "purchase_order": "47",
            "credit_memo": "60",
            "material_document": "49",
        }[document]
        return f"{lead}{self.day_no:05d}{self._next('erp:' + document):06d}"

    def wms_order(self, warehouse: Warehouse) -> str:
        return (
            f"{warehouse.wms_order_prefix}{self.day_no:05d}{self._next('wo:' + warehouse.code):05d}"
        )

    def wms_shipment(self, warehouse: Warehouse) -> str:
        n = self._next("ws:" + warehouse.code)
        return f"{warehouse.shipment_prefix}-{self.day_no:05d}-{n:05d}"

    def pick(self, warehouse: Warehouse) -> str:
        return f"{warehouse.pick_prefix}{self.day_no:05d}{self._next('pk:' + warehouse.code):06d}"

    def adjustment(self, warehouse: Warehouse) -> str:
        n = self._next("adj:" + warehouse.code)
        return f"{warehouse.adjustment_prefix}-{self.day_no:05d}-{n:05d}"

    def inventory_change(self, warehouse: Warehouse) -> str:
        return f"IC-{warehouse.code}-{self.day_no:05d}-{self._next('ic:' + warehouse.code):05d}"

    def mw_message(self) -> str:
        n = self._next("mw")
        return f"msg-{self.day_no:05d}-{n:07d}"

    def tracking(self, carrier: Carrier) -> str:
        n = self._next("trk:" + carrier.code)
        if carrier.tracking_style == "ups":
            return f"1Z4A7E03{self.day_no:05d}{n:05d}"  # 1Z + shipper + service + package
        if carrier.tracking_style == "fedex":
            return f"7{self.day_no:05d}{n:06d}"
        return f"{self.day_no:05d}{n:05d}"

    def asn(self) -> str:
        return f"ASN{self.day_no:05d}{self._next('asn'):05d}"

    def edi_control(self) -> str:
        return f"{self.day_no % 10_000:04d}{self._next('isa'):05d}"

    def customer_invoice_number(self, erp_invoice: str) -> str:
        return f"INV-{erp_invoice}"

    def supplier_invoice(self, supplier: Supplier) -> str:
        return f"{supplier.partner[:3]}-INV-{self.day_no:05d}{self._next('sinv'):04d}"

    def return_auth(self) -> str:
        return f"RMA-{self.day_no:05d}-{self._next('rma'):05d}"

    def wms_return(self, warehouse: Warehouse) -> str:
        return f"R{warehouse.code[3:]}-{self.day_no:05d}{self._next('ret:' + warehouse.code):04d}"

    def receipt(self, warehouse: Warehouse) -> str:
        return f"GR-{warehouse.code}-{self.day_no:05d}{self._next('gr:' + warehouse.code):04d}"
