"""ANSI X12 interchanges to canonical events (pure: bytes in, events and refusals out).

The delimiters come from the ISA segment itself: the element separator is the character after
"ISA", the component separator is ISA16 and the segment terminator the character after it (a
newline terminator works too; whitespace between segments is ignored). Every transaction set
(ST..SE) is checked against its trailer and mapped on its own, so one broken document is
refused (with its segment position and the reason) while the others of the interchange are
kept. Envelope problems (GE/IEA counts and control numbers) are reported without dropping the
documents. Purchase-order documents (850, 855, 856, 810) join the purchase_order journey by
po_number; a 997 links to the documents it acknowledges through edi_control_number.
docs/edi.md describes the mapping; docs/decisions/0005 and 0006 why no library. The warehouse
sets (940, 945, 846) and TA1 are mapped in adapters/x12_sets.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from adapters import x12_sets
from adapters.edi import document_event
from adapters.records import Rejected
from tower.model import Event

__all__ = ["Interchange", "Segment", "TransactionSet", "X12Error", "parse_x12", "tokenize"]

Direction = Literal["received", "sent"]
ACK_STATUS = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted",
              "R": "rejected", "M": "rejected", "W": "rejected", "X": "rejected"}  # fmt: skip
GROUP_DOCUMENT = {"PO": "850", "PR": "855", "SH": "856", "IN": "810", "OW": "940", "SW": "945",
                  "IB": "846", "FA": "997"}  # fmt: skip


class X12Error(ValueError):
    """The bytes are not an X12 interchange at all; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Segment:
    position: int  # 1-based among the segments of the file
    tag: str
    elements: list[str]  # elements[0] is the first element after the tag

    def get(self, number: int) -> str:
        """Element `number` (1-based, as X12 counts: BEG03 is get(3)), stripped; '' if absent."""
        return self.elements[number - 1].strip() if 0 < number <= len(self.elements) else ""


@dataclass(slots=True)
class TransactionSet:
    code: str  # ST01: 850, 997, ...
    control: str  # ST02
    segments: list[Segment] = field(default_factory=list)  # ST .. SE


@dataclass(slots=True)
class Interchange:
    sender: str  # ISA06
    receiver: str  # ISA08
    control: str  # ISA13
    isa: Segment
    groups: list[tuple[Segment, list[TransactionSet]]] = field(default_factory=list)
    acks: list[Segment] = field(default_factory=list)  # TA1 segments: interchange answers


def tokenize(payload: bytes) -> list[Segment]:
    """The segments of an X12 file, delimiters read from its ISA segment."""
    text = payload.decode("utf-8-sig", errors="replace").lstrip()
    if not text.startswith("ISA"):
        head = text[:20].split("\n")[0]
        if text[:3] in ("ST*", "GS*"):
            raise X12Error(f"segment 1: no ISA envelope; the file begins with {head!r}")
        raise X12Error(f"segment 1: not X12: the file begins with {head!r}, not ISA")
    if len(text) < 4:
        raise X12Error("segment 1: the ISA segment is cut short")
    separator = text[3]
    index = 3  # the separator before ISA01; ISA16 follows the 16th
    for _ in range(15):
        index = text.find(separator, index + 1)
        if index < 0:
            raise X12Error("segment 1: the ISA segment has fewer than 16 elements")
    if index + 2 >= len(text):
        raise X12Error("segment 1: the ISA segment has no segment terminator")
    terminator = text[index + 2]
    segments: list[Segment] = []
    for raw in text.split(terminator):
        cleaned = raw.strip()
        if not cleaned:
            continue
        tag, *elements = cleaned.split(separator)
        segments.append(Segment(len(segments) + 1, tag.strip(), elements))
    return segments


def envelopes(segments: list[Segment]) -> tuple[list[Interchange], list[Rejected]]:
    """Interchanges, their groups and transaction sets; refused sets and envelope problems."""
    found: list[Interchange] = []
    problems: list[Rejected] = []
    interchange: Interchange | None = None
    group: tuple[Segment, list[TransactionSet]] | None = None
    current: TransactionSet | None = None
    sets = 0  # transaction sets begun in the current group, kept or refused
    for seg in segments:
        if current is not None:
            if seg.tag == "SE":
                current.segments.append(seg)
                problem = _trailer_problem(current, seg)
                if problem:
                    problems.append(Rejected(seg.position, problem))
                elif group is not None:
                    group[1].append(current)
                current = None
                continue
            if seg.tag not in ("ST", "GE", "IEA", "ISA", "GS"):
                current.segments.append(seg)
                continue
            problems.append(Rejected(current.segments[0].position, _missing_se(current, seg)))
            current = None
        if seg.tag == "ISA":
            interchange = Interchange(seg.get(6), seg.get(8), seg.get(13), seg)
            found.append(interchange)
        elif seg.tag == "GS":
            if interchange is None:
                problems.append(Rejected(seg.position, f"segment {seg.position} (GS): outside ISA"))
                continue
            group = (seg, [])
            interchange.groups.append(group)
            sets = 0
        elif seg.tag == "ST":
            if group is None:
                problems.append(Rejected(seg.position, f"segment {seg.position} (ST): no GS"))
            current = TransactionSet(seg.get(1), seg.get(2), [seg])
            sets += 1
        elif seg.tag == "GE" and group is not None:
            problems += _count_problems(seg, "GE", group[0], sets, 6)
            group = None
        elif seg.tag == "IEA" and interchange is not None:
            problems += _count_problems(seg, "IEA", interchange.isa, len(interchange.groups), 13)
            interchange = None
        elif seg.tag == "TA1" and interchange is not None:
            interchange.acks.append(seg)
        else:
            problems.append(
                Rejected(seg.position, f"segment {seg.position} ({seg.tag}): outside ST..SE")
            )
    if current is not None:
        first = current.segments[0]
        where = f"segment {first.position} (ST {current.code} {current.control})"
        problems.append(Rejected(first.position, f"{where}: the file ends before its SE"))
    return found, problems


def _trailer_problem(ts: TransactionSet, se: Segment) -> str | None:
    where = f"segment {se.position} (SE) of transaction set {ts.code} {ts.control}"
    if se.get(2) != ts.control:
        return f"{where}: SE02 {se.get(2)!r} does not match ST02 {ts.control!r}"
    if se.get(1) != str(len(ts.segments)):
        return f"{where}: SE01 says {se.get(1)!r} segments, the set has {len(ts.segments)}"
    return None


def _missing_se(ts: TransactionSet, seg: Segment) -> str:
    first = ts.segments[0]
    return (
        f"segment {first.position} (ST {ts.code} {ts.control}): no SE before segment "
        f"{seg.position} ({seg.tag})"
    )


def _count_problems(
    trailer: Segment, tag: str, header: Segment, count: int, control_at: int
) -> list[Rejected]:
    out = []
    where = f"segment {trailer.position} ({tag})"
    if trailer.get(1) != str(count):
        reason = f"{where}: {tag}01 says {trailer.get(1)!r}, the envelope holds {count}"
        out.append(Rejected(trailer.position, reason))
    if not _same_number(trailer.get(2), header.get(control_at)):
        expected = f"{header.tag}{control_at:02d} {header.get(control_at)!r}"
        reason = f"{where}: {tag}02 {trailer.get(2)!r} does not match {expected}"
        out.append(Rejected(trailer.position, reason))
    return out


def _same_number(a: str, b: str) -> bool:
    """Control numbers compare as numbers when both are digits (000003438 is 3438)."""
    return int(a) == int(b) if a.isdigit() and b.isdigit() else a == b


def parse_x12(
    payload: bytes,
    *,
    source: str | None = None,
    direction: Direction = "received",
    zone: tzinfo = UTC,
) -> tuple[list[Event], list[Rejected]]:
    """Canonical events of every well-formed transaction set; the refusals, by position.

    Raises X12Error when the bytes are not an X12 interchange at all.
    """
    interchanges, problems = envelopes(tokenize(payload))
    events: list[Event] = []
    for interchange in interchanges:
        for gs, sets in interchange.groups:
            for ts in sets:
                context = _Context(interchange, gs, ts, source, direction, zone)
                events += _events(context)
        for ta1 in interchange.acks:  # no group: a stand-in GS and a one-segment "set"
            ts = TransactionSet("TA1", ta1.get(1), [ta1])
            events += _events(_Context(interchange, Segment(ta1.position, "GS", []), ts, source,
                                       direction, zone))  # fmt: skip
    return events, problems


@dataclass(frozen=True, slots=True)
class _Context:
    interchange: Interchange
    gs: Segment
    ts: TransactionSet
    source: str | None
    direction: Direction
    zone: tzinfo

    def first(self, tag: str) -> Segment | None:
        return next((s for s in self.ts.segments if s.tag == tag), None)

    def all(self, tag: str) -> list[Segment]:
        return [s for s in self.ts.segments if s.tag == tag]

    @property
    def control_key(self) -> str:
        """The edi_control_number of this document: sender / group control / set control."""
        return f"{self.interchange.sender}/{self.gs.get(6)}/{self.ts.control}"


def _events(c: _Context) -> list[Event]:
    code = c.ts.code
    attrs: dict[str, Any] = {}
    when: datetime | None = None
    status, error = "ok", None
    po_numbers: list[str] = []
    object_type, keys = "edi_document", {"edi_control_number": c.control_key}
    related: list[dict[str, Any]] = []
    if code == "850" and (beg := c.first("BEG")):
        po_numbers = [beg.get(3)]
        attrs |= {"purpose": beg.get(1), "po_type": beg.get(2)}
        when = _date(beg.get(5), "", c.zone)
        attrs["lines"] = len(c.all("PO1"))
    elif code == "855" and (bak := c.first("BAK")):
        po_numbers = [bak.get(3)]
        attrs |= {"purpose": bak.get(1), "ack_type": bak.get(2)}
        when = _date(bak.get(4), "", c.zone)
        if bak.get(2) == "RJ":
            status, error = "error", "purchase order rejected by the partner (BAK02 RJ)"
    elif code == "856" and (bsn := c.first("BSN")):
        po_numbers = list(dict.fromkeys(p.get(1) for p in c.all("PRF") if p.get(1)))
        attrs["asn_number"] = bsn.get(2)
        when = _date(bsn.get(3), bsn.get(4), c.zone)
        bol = next((r.get(2) for r in c.all("REF") if r.get(1) == "BM"), "")
        if bol:
            attrs["bill_of_lading"] = bol
        if bsn.get(2):
            related.append({"object_type": "shipment", "keys": {"asn_number": bsn.get(2)}})
    elif code == "810" and (big := c.first("BIG")):
        po_numbers = [big.get(4)] if big.get(4) else []
        attrs["invoice_number"] = big.get(2)
        when = _date(big.get(1), "", c.zone)
        if big.get(2):
            related.append({"object_type": "invoice", "keys": {"invoice_number": big.get(2)}})
    elif code == "997":
        return _acknowledgements(c)
    elif code in x12_sets.SETS:
        m = x12_sets.SETS[code](c)
        base = _base(c, m.when)
        return [_event(c, base, m.object_type, m.keys, m.attributes, m.related, m.status, m.error,
                       suffix="")]  # fmt: skip
    base = _base(c, when)
    if not po_numbers:
        if code in ("856", "810") and related:
            object_type, keys = related[0]["object_type"], dict(related[0]["keys"])
            keys["edi_control_number"] = c.control_key
            related = []
        return [_event(c, base, object_type, keys, attrs, related, status, error, suffix="")]
    events = []
    for po in po_numbers:
        keys = {"po_number": po}
        if len(po_numbers) == 1:  # one PO: the control number is an alias of it (997s join)
            keys["edi_control_number"] = c.control_key
        else:
            attrs["edi_control_number"] = c.control_key
        suffix = "" if len(po_numbers) == 1 else f":{po}"
        events.append(
            _event(c, base, "purchase_order", keys, attrs, related, status, error, suffix=suffix)
        )
    return events


def _acknowledgements(c: _Context) -> list[Event]:
    """One event per acknowledged transaction set (AK2/AK5), else one for the group (AK1/AK9)."""
    ak1 = c.first("AK1")
    ak9 = c.first("AK9")
    group_control = ak1.get(2) if ak1 else ""
    original_sender = c.interchange.receiver  # the 997 goes back to the sender of the documents
    base = _base(c, None)
    group_status = ACK_STATUS.get(ak9.get(1), ak9.get(1)) if ak9 else None
    attrs: dict[str, Any] = {
        "functional_group": ak1.get(1) if ak1 else None,
        "acknowledges_group": group_control,
        "group_status": group_status,
    }
    events = []
    pending: Segment | None = None
    for seg in c.ts.segments:
        if seg.tag == "AK2":
            pending = seg
        elif seg.tag == "AK5" and pending is not None:
            status = ACK_STATUS.get(seg.get(1), seg.get(1))
            target = f"{original_sender}/{group_control}/{pending.get(2)}"
            events.append(
                _event(
                    c, base, _object_of(pending.get(1)), {"edi_control_number": target},
                    attrs | {"acknowledges": pending.get(1), "ack_status": status},
                    [], "error" if status == "rejected" else "ok",
                    f"{pending.get(1)} {pending.get(2)} rejected by the partner"
                    if status == "rejected" else None, suffix=f":{pending.get(2)}",
                )
            )  # fmt: skip
            pending = None
    if events:
        return events
    target = f"{original_sender}/{group_control}"
    rejected = group_status == "rejected"
    return [
        _event(
            c, base, "edi_document", {"edi_control_number": target},
            attrs | {"ack_status": group_status}, [], "error" if rejected else "ok",
            f"group {group_control} rejected by the partner" if rejected else None, suffix="",
        )
    ]  # fmt: skip


def _object_of(document: str) -> str:
    return "purchase_order" if document in ("850", "855", "856", "810") else "edi_document"


def _base(c: _Context, when: datetime | None) -> dict[str, Any]:
    """What every event of a document shares: time, source, envelope attributes."""
    gs_time = _date(c.gs.get(4), c.gs.get(5), c.zone)
    isa = c.interchange.isa
    isa_time = _date(isa.get(9), isa.get(10), c.zone)
    return {
        "occurred_at": when or gs_time or isa_time or datetime(1970, 1, 1, tzinfo=UTC),
        "source": (c.source or f"edi.{c.interchange.sender or 'unknown'}")[:128],
        "attributes": {
            "partner": c.interchange.receiver if c.direction == "sent" else c.interchange.sender,
            "sender": c.interchange.sender,
            "receiver": c.interchange.receiver,
            "interchange_control_number": c.interchange.control,
            "group_control_number": c.gs.get(6),
            "transaction_set_control_number": c.ts.control,
            "transaction_set": c.ts.code,
            "x12_version": c.gs.get(8) or isa.get(12),
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
    identity = f"{c.interchange.sender}/{c.interchange.control}/{c.gs.get(6)}/{c.ts.control}"
    digest = hashlib.sha1(identity.encode()).hexdigest()[:16]
    return document_event(
        event_id=f"x12:{c.ts.code}:{digest}{suffix}",
        type=f"edi.{c.ts.code.lower()}.{c.direction}",
        base=base,
        object_type=object_type,
        keys=keys,
        attrs=attrs,
        related=related,
        status=status,
        error=error,
    )


def _date(day: str, time: str, zone: tzinfo) -> datetime | None:
    """CCYYMMDD or YYMMDD with HHMM[SS[dd]] as an aware datetime; None when unreadable."""
    day, time = day.strip(), time.strip()
    if len(day) == 6 and day.isdigit():
        day = ("20" if int(day[:2]) < 70 else "19") + day
    if len(day) != 8 or not day.isdigit():
        return None
    digits = (time if time.isdigit() else "")[:6].ljust(6, "0")
    try:
        return datetime(
            int(day[:4]), int(day[4:6]), int(day[6:]),
            int(digits[:2]), int(digits[2:4]), int(digits[4:6]), tzinfo=zone,
        )  # fmt: skip
    except ValueError:
        return None
