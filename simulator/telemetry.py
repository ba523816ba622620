"""The estate's telemetry: OTLP spans from the integration flows and the EDI translator, and log
lines from the ERP's interfaces and the middleware consumers.

Derived from each story once its faults are applied, so an ERP posting error or a dead letter
shows as an ERROR span and an ERROR log line on the same order, and a lost message leaves no
trace at all (the message never reached its consumer).

Pure and deterministic: times come from the story's final events, trace and span ids from a hash
of the seed and the event id; no random stream is drawn from, so turning telemetry on changes no
event, and a second run with the same seed sends the same spans (the tower stores them once).

Keys: spans carry business identifiers in the attributes adapters/rules/otlp.yaml maps to key
namespaces, log lines in the fields adapters/rules/logs.yaml maps, and only identifiers of the
object the step is about, so each span's event joins that object's journey. The shipped rules
have no attribute for an inventory change, and read message ids as keys of no object type (which
would start order journeys of their own), so the inventory flows' spans and lines carry no key:
they are stored, and found by their trace, but join no journey.

Delivery: a span or line reaches the tower before the first event of its story that happened
after it and, unless a fault has already swapped the story's events, after every one that
happened up to its time: it never makes a journey look out of order (the runner keeps that
order across endpoints).
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from simulator.estate import Estate
from simulator.records import Emission, LogLine, SpanPlan, Story, TraceRecord, format_time
from simulator.scenario import Telemetry

__all__ = ["ERP_LOG_KEYS", "MW_LOG_KEYS", "SPAN_KEYS", "Signal", "TelemetryPlanner"]

Signal = TraceRecord | LogLine

# Exporters and log shippers send in batches every few seconds.
LAG = timedelta(seconds=3)
TICK = timedelta(microseconds=1)

# Key namespace -> the span attribute the shipped OTLP rules read it from (tests check the rules
# agree). Not here: asn_number (the rules make it a purchase order's key, the estate's outbound
# ASNs are a shipment's), edi_po_number and the inventory keys (the rules have no attribute).
SPAN_KEYS: dict[str, str] = {
    "oms_order": "order.id",
    "channel_order": "channel.order_id",
    "erp_sales_order": "erp.sales_order",
    "wms_order": "wms.order_id",
    "wms_shipment": "wms.shipment_id",
    "carrier_tracking": "carrier.tracking_number",
    "erp_delivery": "erp.delivery",
    "erp_invoice": "erp.invoice",
    "invoice_number": "invoice.number",
    "po_number": "po.number",
    "erp_purchase_order": "erp.purchase_order",
}
# Key namespace -> the field the shipped log extractors read it from: key=value pairs in the
# ERP's interface logs, camelCase JSON fields in the middleware's consumer logs.
ERP_LOG_KEYS: dict[str, str] = {"oms_order": "order_id", "erp_sales_order": "sales_order"}
MW_LOG_KEYS: dict[str, str] = {"oms_order": "orderId", "erp_sales_order": "salesOrder"}

# The EDI documents the translator handles (997 acknowledgements it answers without a trace).
EDI_DOCUMENTS = ("850", "855", "856", "810")
DELIVERY_ATTEMPTS = 5  # what the broker tries before it dead-letters a message


@dataclass(frozen=True, slots=True)
class Interface:
    """An integration flow: it consumes a queue and calls the target system's API."""

    flow: str  # service.name of its spans, and the source of its consumer log
    call: str  # the client span's name: the API it calls
    path: str  # that API's path on the target host
    carried: tuple[str, ...]  # key namespaces the message carries
    answered: tuple[str, ...]  # key namespaces the target answers with (known once posted)
    erp_log: str | None = None  # the ERP interface log that records the posting, if any
    erp_interface: str = ""  # how that log names the interface
    erp_posted: str = ""  # what that log says when the posting succeeds


INTERFACES: dict[str, Interface] = {
    "orders.oms-to-erp": Interface(
        "middleware.order-to-erp",
        "POST /A_SalesOrder",
        "/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder",
        carried=("oms_order",),
        answered=("erp_sales_order",),
        erp_log="erp.s4.sales-orders",
        erp_interface="API_SALES_ORDER_SRV",
        erp_posted="sales order created",
    ),
    "deliveries.erp-to-wms": Interface(
        "middleware.delivery-to-wms",
        "POST /outbound-orders",
        "/api/v2/outbound-orders",
        carried=("erp_sales_order",),
        answered=("wms_order",),
    ),
    "inventory.wms-to-erp": Interface(
        "middleware.inventory-to-erp",
        "POST /A_MaterialDocumentHeader",
        "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader",
        carried=(),
        answered=(),
        erp_log="erp.s4.goods-movements",
        erp_interface="API_MATERIAL_DOCUMENT_SRV",
        erp_posted="goods movement posted",
    ),
    "inventory.erp-to-channels": Interface(
        "middleware.stock-to-channels",
        "PUT /inventory/{sku}",
        "/inventory",
        carried=(),
        answered=(),
    ),
}
# A stock message's details: log field -> span attribute.
DETAIL_ATTRIBUTES = {
    "change": "inventory.change_id",
    "sku": "inventory.sku",
    "facility": "facility",
    "quantity": "inventory.quantity",
    "material_document": "erp.material_document",
}
EDI_TRANSLATOR = "edi.translator"
ERP_BILLING_LOG = "erp.s4.billing"


def host_of(source: str) -> str:
    """The API host of a system, by its source: erp.s4 -> s4.erp.internal."""
    return ".".join(reversed(source.split("."))) + ".internal"


def keyvalue(fields: dict[str, Any]) -> str:
    """A key=value log line; values with blanks or quotes are quoted."""
    parts = []
    for name, value in fields.items():
        text = str(value)
        if not text or any(c in text for c in ' "='):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{name}={text}")
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class _Draft:
    """A signal before its delivery time is known, and the time its event (if any) happens."""

    at: datetime
    signal: Signal


class _Slots:
    """When each signal of a story reaches the tower: `LAG` after its time, but not before the
    story's events that happened up to then, nor after the first one that happened later.
    (First deliveries only: a redelivered event is a duplicate, it changes no journey.)"""

    def __init__(self, events: list[Emission]) -> None:
        ordered = sorted(events, key=lambda e: e.occurred_at)
        self.times = [e.occurred_at for e in ordered]
        self.until: list[datetime] = []  # latest delivery of events[: i + 1]
        for emission in ordered:
            latest = self.until[-1] if self.until else emission.deliver_at
            self.until.append(max(latest, emission.deliver_at))
        self.after: list[datetime] = [e.deliver_at for e in ordered]  # earliest of events[i:]
        for i in range(len(self.after) - 2, -1, -1):
            self.after[i] = min(self.after[i], self.after[i + 1])

    def at(self, moment: datetime) -> datetime:
        i = bisect.bisect_right(self.times, moment)
        low = self.until[i - 1] if i else None
        high = self.after[i] if i < len(self.after) else None
        slot = moment + LAG if low is None else max(moment + LAG, low)
        if high is not None and slot >= high:
            # No room when a fault delayed an earlier event past a later one: that event shows
            # out of order whatever happens, the signal need not as well.
            slot = high - TICK
        return slot


class TelemetryPlanner:
    """Turns a story's final events into the spans and log lines the estate would emit."""

    def __init__(self, settings: Telemetry, *, seed: int, estate: Estate) -> None:
        self.spans = settings.spans
        self.logs = settings.logs
        self.seed = seed
        self.estate = estate

    def plan(self, story: Story, number: int) -> list[Signal]:
        """The story's signals, each with its delivery time, in delivery order."""
        firsts: dict[str, Emission] = {}
        for emission in sorted(story.emissions, key=lambda e: e.deliver_at):
            firsts.setdefault(emission.event_id, emission)
        drafts: list[_Draft] = []
        for emission in firsts.values():
            queue = self.estate.queue_carrying(emission.type)
            if queue in INTERFACES:
                drafts += self._hop(emission, queue, INTERFACES[queue], number)
            elif emission.system == "edi" and emission.type.split(".")[1] in EDI_DOCUMENTS:
                if self.spans:
                    drafts.append(self._translation(emission, number))
            elif emission.type == "invoice.posted" and self.logs:
                drafts += self._billing(emission, number)
        slots = _Slots(list(firsts.values()))
        # By time, then spans before log lines: the order the runner's rounds send them in.
        drafts.sort(key=lambda draft: (draft.at, isinstance(draft.signal, LogLine)))
        return [replace(d.signal, deliver_at=slots.at(d.at)) for d in drafts]

    # -- ids and timing ----------------------------------------------------------------------

    def _hex(self, size: int, *parts: str) -> str:
        """`size` bytes of hex fixed by the seed and `parts`; never all zeros (invalid in OTLP)."""
        text = f"{self.seed}:{':'.join(parts)}".encode()
        digest = hashlib.blake2b(text, digest_size=size).hexdigest()
        return digest if int(digest, 16) else "0" * (2 * size - 1) + "1"

    def _draw(self, *parts: str) -> float:
        return int(self._hex(8, "draw", *parts), 16) / 2**64

    def _seconds(self, low: float, high: float, *parts: str) -> timedelta:
        return timedelta(seconds=low + (high - low) * self._draw(*parts))

    # -- integration flows ---------------------------------------------------------------------

    def _hop(
        self, emission: Emission, queue: str, interface: Interface, number: int
    ) -> list[_Draft]:
        """A message taken off `queue` and posted to the target: the consumer's trace, the
        consumer's log line and, for the ERP, its interface log line.

        All of them carry the moment the target answered (the consumer acknowledges the
        message as it gets the answer), the time of the step's event: whatever order the
        tower stores a hop's events in, none of them happened before another.
        """
        event, hop = emission.event, emission.event_id
        failed = event.get("status") == "error"
        dead = failed and emission.system == "middleware"  # the broker gave up on it
        error: str | None = event.get("error") if failed else None
        done = _millisecond(emission.occurred_at)
        began = done - self._seconds(0.15, 1.2, hop, "wait")
        trace_id = self._hex(16, "trace", hop)
        root_id = self._hex(8, "span", hop, "process")
        namespaces = interface.carried + (() if failed else interface.answered)
        keys = {ns: event["keys"][ns] for ns in namespaces if ns in event["keys"]}
        details = _hop_details(emission, posted=not failed)
        target = host_of(str(event["source"]))
        out: list[_Draft] = []
        if self.spans:
            root = SpanPlan(
                span_id=root_id,
                name=f"process {queue}",
                kind="consumer",
                start=began,
                end=done,
                attributes={
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": queue,
                    "messaging.operation.type": "process",
                    **{SPAN_KEYS[ns]: v for ns, v in keys.items()},
                    **({"facility": event["facility"]} if event.get("facility") else {}),
                    **{DETAIL_ATTRIBUTES[name]: v for name, v in details.items()},
                },
                error=error,
            )
            spans = [root]
            if not dead:  # a message that fails validation never reaches the target's API
                spans.append(
                    SpanPlan(
                        span_id=self._hex(8, "span", hop, "call"),
                        name=interface.call,
                        kind="client",
                        start=began + self._seconds(0.002, 0.02, hop, "call"),
                        end=done,
                        attributes={
                            "http.request.method": interface.call.split()[0],
                            "server.address": target,
                            "url.full": f"https://{target}{interface.path}",
                            "http.response.status_code": 400 if failed else 201,
                        },
                        parent=root_id,
                        error=error,
                    )
                )
            trace = TraceRecord(
                service=interface.flow,
                trace_id=trace_id,
                spans=tuple(spans),
                deliver_at=done,
                story=number,
                joins=bool(keys),
            )
            out.append(_Draft(done, trace))
        if not self.logs:
            return out
        if interface.erp_log is not None and not dead:
            fields = {
                "time": format_time(done),
                "level": "ERROR" if failed else "INFO",
                "interface": interface.erp_interface,
                **{ERP_LOG_KEYS[ns]: v for ns, v in keys.items() if ns in ERP_LOG_KEYS},
                **details,
                "msg": error or interface.erp_posted,
            }
            joins = failed and any(ns in ERP_LOG_KEYS for ns in keys)
            out.append(self._line(interface.erp_log, keyvalue(fields), done, number, joins=joins))
        if dead:
            level, message = "ERROR", str(error)
        elif failed:
            level, message = "WARN", f"target rejected the message, requeued: {error}"
        else:
            level, message = "INFO", f"message delivered to {target}"
        record: dict[str, Any] = {
            "@timestamp": format_time(done),
            "level": level,
            "logger": interface.flow,
            "message": message,
            "queue": queue,
            **{MW_LOG_KEYS[ns]: v for ns, v in keys.items() if ns in MW_LOG_KEYS},
            **details,
            "traceId": trace_id,
            "spanId": root_id,
        }
        if dead:
            record["deliveryAttempts"] = DELIVERY_ATTEMPTS
        joins = dead and any(ns in MW_LOG_KEYS for ns in keys)
        text = orjson.dumps(record).decode()
        out.append(self._line(interface.flow, text, done, number, ndjson=True, joins=joins))
        return out

    def _translation(self, emission: Emission, number: int) -> _Draft:
        """The EDI translator's span for one X12 document, in or out, keyed by the document's
        own numbers. (A partner's 850 has only the partner's PO number, which the shipped rules
        do not read: its span joins no journey. Keying it by the OMS number the order gets
        minutes later would start a second journey until the OMS event joins the two.)"""
        event, doc_id = emission.event, emission.event_id
        document = emission.type.split(".")[1]
        inbound = emission.type.endswith(".received")
        keys = {SPAN_KEYS[ns]: v for ns, v in event["keys"].items() if ns in SPAN_KEYS}
        attributes = event.get("attributes", {})
        done = _millisecond(emission.occurred_at)
        error = event.get("error") if event.get("status") == "error" else None
        span = SpanPlan(
            span_id=self._hex(8, "span", doc_id, "translate"),
            name=f"translate X12 {document}",
            kind="consumer" if inbound else "producer",
            start=done - self._seconds(0.2, 1.5, doc_id, "translate"),
            end=done,
            attributes={
                "edi.standard": "X12",
                "edi.document": document,
                "edi.direction": "inbound" if inbound else "outbound",
                **{
                    f"edi.{name}": attributes[name]
                    for name in ("partner", "control_number")
                    if name in attributes
                },
                **keys,
            },
            error=error,
        )
        trace = TraceRecord(
            service=EDI_TRANSLATOR,
            trace_id=self._hex(16, "trace", doc_id),
            spans=(span,),
            deliver_at=done,
            story=number,
            joins=bool(keys),
        )
        return _Draft(done, trace)

    def _billing(self, emission: Emission, number: int) -> list[_Draft]:
        """The ERP billing log: a line per sales order the invoice bills."""
        event = emission.event
        failed = event.get("status") == "error"
        done = _millisecond(emission.occurred_at)
        out = []
        for related in event.get("related", []):
            sales_order = related["keys"].get("erp_sales_order")
            if sales_order is None:
                continue
            fields = {
                "time": format_time(done),
                "level": "ERROR" if failed else "INFO",
                "interface": "BILLING",
                "invoice": event["keys"].get("erp_invoice", ""),
                ERP_LOG_KEYS["erp_sales_order"]: sales_order,
                "msg": event.get("error") if failed else "billing document posted",
            }
            out.append(self._line(ERP_BILLING_LOG, keyvalue(fields), done, number, joins=failed))
        return out

    @staticmethod
    def _line(
        source: str, text: str, at: datetime, number: int, *, joins: bool, ndjson: bool = False
    ) -> _Draft:
        line = LogLine(
            source=source,
            text=text,
            ndjson=ndjson,
            at=at,
            deliver_at=at,
            story=number,
            joins=joins,
        )
        return _Draft(at, line)


def _millisecond(moment: datetime) -> datetime:
    """The time as events and log lines write it (to the millisecond): a span that ends at the
    step's event must not end a fraction of a millisecond after it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _hop_details(emission: Emission, *, posted: bool) -> dict[str, str | int]:
    """What a flow logs about a stock message besides keys: change, SKU, site, quantity, and
    the ERP's material document once `posted`."""
    keys, attributes = emission.event["keys"], emission.event.get("attributes", {})
    if "inventory_change" not in keys:
        return {}
    details: dict[str, str | int] = {"change": keys["inventory_change"]}
    for name in ("sku", "facility", "quantity"):
        if name in attributes:
            details[name] = attributes[name]
    if posted and "erp_material_document" in keys:
        details["material_document"] = keys["erp_material_document"]
    return details
