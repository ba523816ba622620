"""UN/EDIFACT interchanges to canonical events (pure: bytes in, events and refusals out).

pydifact reads the syntax: the UNA service string advice (or the defaults), the release
character, composites and line breaks between segments. This module checks the envelopes
(UNB/UNG/UNH and their trailers UNZ/UNE/UNT) and maps each message on its own, so one broken
message is refused (with its segment position and the reason) while the others are kept, as
adapters/x12.py does for X12. ORDERS, ORDRSP, DESADV and INVOIC join the purchase_order journey
by po_number; a CONTRL links to the messages it acknowledges through edi_control_number.
docs/edi.md describes the mapping; docs/decisions/0006-edi-libraries.md the library choice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.parser import Parser
from pydifact.segments import Segment as LibrarySegment
from pydifact.segments import SegmentFactory

from adapters.edi import document_event
from adapters.records import Rejected
from tower.model import Event

__all__ = ["EdifactError", "Interchange", "Message", "Segment", "parse_edifact", "segments"]

# UCI04 / UCM03 / UCF03 action codes (CONTRL, data element 0083)
ACTION = {"4": "rejected", "7": "accepted", "8": "received"}
PO_MESSAGES = ("ORDERS", "ORDRSP", "DESADV", "INVOIC")
# ORDRSP BGM03 (message function, 1225): 27 not accepted; 29 accepted without amendment
RESPONSE = {"4": "changed", "27": "rejected", "29": "accepted", "9": "original", "3": "deleted"}


class EdifactError(ValueError):
    """The bytes are not an EDIFACT interchange at all; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Segment:
    position: int  # 1-based among the segments of the file (UNA counts)
    tag: str
    elements: list[str | list[str]]

    def get(self, number: int, component: int = 1) -> str:
        """Element `number`, component `component` (1-based, as EDIFACT counts); '' if absent."""
        if not 0 < number <= len(self.elements):
            return ""
        value = self.elements[number - 1]
        if isinstance(value, str):
            return value.strip() if component == 1 else ""
        return value[component - 1].strip() if 0 < component <= len(value) else ""


@dataclass(slots=True)
class Message:
    reference: str  # UNH01
    type: str  # UNH02:1, e.g. ORDERS
    version: str  # UNH02:1..5 joined, e.g. D:96A:UN:EAN008
    segments: list[Segment] = field(default_factory=list)  # UNH .. UNT
    group: str = ""  # UNG05, when the message sits in a functional group


@dataclass(slots=True)
class Interchange:
    sender: str  # UNB02:1
    receiver: str  # UNB03:1
    control: str  # UNB05
    unb: Segment
    messages: list[Message] = field(default_factory=list)


class _PlainFactory(SegmentFactory):
    """Segments without pydifact's XML directory validation (slow, and warns per segment)."""

    @staticmethod
    def create_segment(
        name: str,
        *elements: Any,
        validate: bool = False,  # noqa: ARG004  (the caller's default; never validated here)
        version: str = "",  # noqa: ARG004
        directory: str = "",  # noqa: ARG004
    ) -> LibrarySegment:
        if not name or not name.isalnum():
            raise EDISyntaxError(f"segment tag {name!r} is not alphanumeric")
        # A tag alone would make pydifact warn once per distinct tag; one empty element reads
        # the same (every element is '').
        return LibrarySegment(name, *(elements or ("",)))


def segments(payload: bytes) -> list[Segment]:
    """The segments of an EDIFACT file, read by pydifact with the file's own delimiters."""
    text = payload.decode("utf-8-sig", errors="replace").lstrip()
    if not text.startswith(("UNA", "UNB")):
        head = text[:20].split("\n")[0]
        hint = " (no UNB envelope)" if text.startswith("UNH") else ""
        raise EdifactError(f"segment 1: not EDIFACT{hint}: the file begins with {head!r}")
    try:
        parsed = list(Parser(factory=_PlainFactory()).parse(text))
    except (EDISyntaxError, ValidationError, IndexError, ValueError, TypeError) as exc:
        # pydifact's own errors, and what its tokenizer raises on a cut-short UNA or UNB
        raise EdifactError(f"not readable as EDIFACT: {exc}") from exc
    out = []
    for number, seg in enumerate(parsed, start=1):
        elements = [e if isinstance(e, list) else str(e) for e in seg.elements]
        out.append(Segment(number, seg.tag.strip(), elements))
    return out


def envelopes(found: list[Segment]) -> tuple[list[Interchange], list[Rejected]]:
    """Interchanges and their messages; refused messages and envelope problems."""
    interchanges: list[Interchange] = []
    problems: list[Rejected] = []
    interchange: Interchange | None = None
    group: Segment | None = None
    in_group = 0  # messages begun in the current group
    begun = [0, 0]  # messages and groups begun in the current interchange
    current: Message | None = None

    def problem(seg: Segment, reason: str) -> None:
        problems.append(Rejected(seg.position, f"segment {seg.position} ({seg.tag}): {reason}"))

    for seg in found:
        if current is not None:
            if seg.tag == "UNT":
                current.segments.append(seg)
                reason = _trailer_problem(current, seg)
                if reason:
                    problem(seg, reason)
                elif interchange is not None:
                    interchange.messages.append(current)
                current = None
                continue
            if seg.tag not in ("UNH", "UNE", "UNZ", "UNB", "UNG"):
                current.segments.append(seg)
                continue
            first = current.segments[0]
            problem(first, f"message {current.type} {current.reference}: no UNT before "
                    f"segment {seg.position} ({seg.tag})")  # fmt: skip
            current = None
        if seg.tag == "UNA":
            continue
        if seg.tag == "UNB":
            interchange = Interchange(seg.get(2), seg.get(3), seg.get(5), seg)
            interchanges.append(interchange)
            begun = [0, 0]
        elif seg.tag == "UNG":
            group, in_group = seg, 0
            begun[1] += 1
        elif seg.tag == "UNH":
            if interchange is None:
                problem(seg, "outside UNB")
            version = ":".join(p for p in (seg.get(2, i) for i in range(2, 6)) if p)
            current = Message(seg.get(1), seg.get(2), version, [seg], group.get(5) if group else "")
            in_group += 1
            begun[0] += 1
        elif seg.tag == "UNE" and group is not None:
            problems.extend(_count(seg, "UNE", in_group, group.get(5), "UNG05"))
            group = None
        elif seg.tag == "UNZ" and interchange is not None:
            expected = begun[1] or begun[0]  # UNZ01 counts groups when there are any
            problems.extend(_count(seg, "UNZ", expected, interchange.control, "UNB05"))
            interchange = None
        else:
            problem(seg, "outside UNH..UNT")
    if current is not None:
        first = current.segments[0]
        problem(first, f"message {current.type} {current.reference}: the file ends before its UNT")
    if interchange is not None:
        last = found[-1]
        reason = f"the file ends before UNZ (interchange {interchange.control})"
        problem(last, reason)
    return interchanges, problems


def _trailer_problem(message: Message, unt: Segment) -> str | None:
    where = f"message {message.type} {message.reference}"
    if unt.get(2) != message.reference:
        return f"{where}: UNT02 {unt.get(2)!r} does not match UNH01 {message.reference!r}"
    count = len(message.segments)
    if unt.get(1) != str(count):
        return f"{where}: UNT01 says {unt.get(1)!r} segments, the message has {count}"
    return None


def _count(trailer: Segment, tag: str, count: int, control: str, header: str) -> list[Rejected]:
    where = f"segment {trailer.position} ({tag})"
    out = []
    if trailer.get(1) != str(count):
        out.append(Rejected(trailer.position, f"{where}: {tag}01 says {trailer.get(1)!r}, the "
                            f"envelope holds {count}"))  # fmt: skip
    if trailer.get(2) != control:
        out.append(Rejected(trailer.position, f"{where}: {tag}02 {trailer.get(2)!r} does not "
                            f"match {header} {control!r}"))  # fmt: skip
    return out


def parse_edifact(
    payload: bytes, *, source: str | None = None, zone: tzinfo = UTC
) -> tuple[list[Event], list[Rejected]]:
    """Canonical events of every well-formed message; the refusals, by position.

    Raises EdifactError when the bytes are not an EDIFACT interchange at all.
    """
    interchanges, problems = envelopes(segments(payload))
    events: list[Event] = []
    for interchange in interchanges:
        for message in interchange.messages:
            events += _events(_Context(interchange, message, source, zone))
    return events, problems


@dataclass(frozen=True, slots=True)
class _Context:
    interchange: Interchange
    message: Message
    source: str | None
    zone: tzinfo

    def first(self, tag: str, qualifier: str | None = None) -> Segment | None:
        return next(iter(self.all(tag, qualifier)), None)

    def all(self, tag: str, qualifier: str | None = None) -> list[Segment]:
        return [
            s
            for s in self.message.segments
            if s.tag == tag and (qualifier is None or s.get(1) == qualifier)
        ]

    def references(self, qualifier: str) -> list[str]:
        """Every RFF value with this qualifier (ON: order number), in order, once each."""
        values = (s.get(1, 2) for s in self.all("RFF") if s.get(1, 1) == qualifier)
        return list(dict.fromkeys(v for v in values if v))

    def date(self, *qualifiers: str) -> datetime | None:
        for qualifier in qualifiers:
            for dtm in self.all("DTM"):
                if dtm.get(1, 1) == qualifier:
                    when = _date(dtm.get(1, 2), dtm.get(1, 3), self.zone)
                    if when is not None:
                        return when
        return None

    @property
    def control_key(self) -> str:
        """This message's edi_control_number: sender / interchange reference / message ref."""
        return f"{self.interchange.sender}/{self.interchange.control}/{self.message.reference}"


def _events(c: _Context) -> list[Event]:
    kind = c.message.type
    bgm = c.first("BGM")
    number = bgm.get(2, 1) if bgm else ""
    attrs: dict[str, Any] = {"document_number": number}
    if bgm is not None:
        attrs["document_name"] = bgm.get(1, 1)  # 220 order, 231 response, 351 despatch, 380
    status, error = "ok", None
    related: list[dict[str, Any]] = []
    po_numbers: list[str] = []
    when = c.date("137", "3", "11", "2")
    if kind == "CONTRL":
        return _acknowledgements(c)
    if kind == "ORDERS":
        po_numbers = [number] if number else []
        attrs["lines"] = len(c.all("LIN"))
    elif kind == "ORDRSP":
        po_numbers = c.references("ON") or ([number] if number else [])
        response = RESPONSE.get(bgm.get(3) if bgm else "", bgm.get(3) if bgm else None)
        attrs["response"] = response
        if response == "rejected":
            status, error = "error", "purchase order not accepted by the partner (BGM03 27)"
    elif kind == "DESADV":
        po_numbers = c.references("ON")
        attrs["asn_number"] = number
        attrs["bill_of_lading"] = next(iter(c.references("BM") or c.references("AAS")), None)
        if number:
            related.append({"object_type": "shipment", "keys": {"asn_number": number}})
    elif kind == "INVOIC":
        po_numbers = c.references("ON")
        attrs["invoice_number"] = number
        # the invoice total: 77 (invoice amount), else 86 (message total), else 39
        amounts = {m.get(1, 1): m.get(1, 2) for m in reversed(c.all("MOA"))}
        attrs["total"] = _number(amounts.get("77") or amounts.get("86") or amounts.get("39", ""))
        if number:
            related.append({"object_type": "invoice", "keys": {"invoice_number": number}})
    cux = c.first("CUX")
    if cux is not None:
        attrs["currency"] = cux.get(1, 2)
    base = _base(c, when)
    if kind not in PO_MESSAGES or not po_numbers:
        object_type, keys = "edi_document", {"edi_control_number": c.control_key}
        if kind in ("DESADV", "INVOIC") and related:
            object_type, keys = related[0]["object_type"], dict(related[0]["keys"])
            keys["edi_control_number"] = c.control_key
            related = []
        return [_event(c, base, object_type, keys, attrs, related, status, error, suffix="")]
    events = []
    for po in po_numbers:
        keys = {"po_number": po}
        if len(po_numbers) == 1:  # one PO: the control number is an alias of it (CONTRL joins)
            keys["edi_control_number"] = c.control_key
        else:
            attrs["edi_control_number"] = c.control_key
        suffix = "" if len(po_numbers) == 1 else f":{po}"
        events.append(
            _event(c, base, "purchase_order", keys, attrs, related, status, error, suffix=suffix)
        )
    return events


def _acknowledgements(c: _Context) -> list[Event]:
    """One event per acknowledged message (UCM), else one for the interchange (UCI)."""
    uci = c.first("UCI")
    acknowledged = uci.get(1) if uci else ""
    original_sender = (uci.get(2) if uci else "") or c.interchange.receiver
    overall = ACTION.get(uci.get(4), uci.get(4)) if uci else None
    base = _base(c, None)
    attrs: dict[str, Any] = {
        "acknowledges_interchange": acknowledged,
        "interchange_status": overall,
    }
    events = []
    for ucm in c.all("UCM"):
        status = ACTION.get(ucm.get(3), ucm.get(3))
        target = f"{original_sender}/{acknowledged}/{ucm.get(1)}"
        rejected = status == "rejected"
        events.append(
            _event(
                c, base, _object_of(ucm.get(2, 1)), {"edi_control_number": target},
                attrs | {"acknowledges": ucm.get(2, 1), "ack_status": status}, [],
                "error" if rejected else "ok",
                f"{ucm.get(2, 1)} {ucm.get(1)} rejected by the partner" if rejected else None,
                suffix=f":{ucm.get(1)}",
            )
        )  # fmt: skip
    if events:
        return events
    rejected = overall == "rejected"
    return [
        _event(
            c, base, "edi_document", {"edi_control_number": f"{original_sender}/{acknowledged}"},
            attrs | {"ack_status": overall}, [], "error" if rejected else "ok",
            f"interchange {acknowledged} rejected by the partner" if rejected else None, suffix="",
        )
    ]  # fmt: skip


def _object_of(message_type: str) -> str:
    return "purchase_order" if message_type in PO_MESSAGES else "edi_document"


def _base(c: _Context, when: datetime | None) -> dict[str, Any]:
    """What every event of a message shares: time, source, envelope attributes."""
    unb = c.interchange.unb
    sent = _date(unb.get(4, 1), unb.get(4, 2), c.zone)
    return {
        "occurred_at": when or sent or datetime(1970, 1, 1, tzinfo=UTC),
        "source": (c.source or f"edi.{c.interchange.sender or 'unknown'}")[:128],
        "attributes": {
            "partner": c.interchange.sender,
            "sender": c.interchange.sender,
            "receiver": c.interchange.receiver,
            "interchange_control_number": c.interchange.control,
            "group_control_number": c.message.group,
            "message_reference": c.message.reference,
            "message_type": c.message.type,
            "edifact_version": c.message.version,
            "syntax": ":".join(p for p in (unb.get(1, 1), unb.get(1, 2)) if p),
        },
    }


def _event(
    c: _Context,
    base: dict[str, Any],
    object_type: str,
    keys: dict[str, str],
    attrs: dict[str, Any],
    related: list[dict[str, Any]],
    status: str,
    error: str | None,
    *,
    suffix: str,
) -> Event:
    identity = f"{c.interchange.sender}/{c.interchange.control}/{c.message.reference}"
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    kind = c.message.type.lower()
    return document_event(
        event_id=f"edifact:{kind}:{digest}{suffix}",
        type=f"edi.{kind}.received",
        base=base,
        object_type=object_type,
        keys=keys,
        attrs=attrs,
        related=related,
        status=status,
        error=error,
    )


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ".")) if text else None
    except ValueError:
        return None


def _date(value: str, fmt: str, zone: tzinfo) -> datetime | None:
    """DTM values in formats 102 (CCYYMMDD), 203 (CCYYMMDDHHMM), 204 (...SS), 101 (YYMMDD);
    UNB dates YYMMDD or CCYYMMDD with an HHMM time in `fmt`. None when unreadable."""
    digits = value.strip()
    if not digits.isdigit():
        return None
    time = fmt if fmt.isdigit() and len(fmt) == 4 else ""  # UNB: the time is the 2nd component
    if fmt == "718" or len(digits) > 14:  # a period (CCYYMMDD-CCYYMMDD): its start
        digits = digits[:8]
    if len(digits) == 6:
        digits = ("20" if int(digits[:2]) < 70 else "19") + digits
    if len(digits) < 8:
        return None
    stamp = (digits + time)[:14].ljust(14, "0")
    try:
        return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=zone)
    except ValueError:
        return None
