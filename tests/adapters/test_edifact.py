"""The EDIFACT reader (pydifact syntax, our envelopes and mapping); every shared vector."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.edifact import EdifactError, parse_edifact, segments
from tests.adapters.edifact_docs import contrl, desadv, invoic, orders, ordrsp
from tests.vectors import vector_files

EDIFACT_FILES = vector_files("edi", "edifact-*")
# Vectors whose only message is refused (real faults in the source files), and why.
REFUSED = {
    "edifact-desadv-smooks-d93a-DESADV.edi": "UNT01 says '20' segments, the message has 28",
    "edifact-invoic-smooks-cartridge-INVOIC_D.03B_with_UNA.txt": "UNT01 says '36' segments, "
    "the message has 35",
    "edifact-orders-staedi-orders-with-group.edi": "UNT01 says '21' segments, the message has 18",
}
# Vectors whose messages are kept while an envelope problem is reported.
ENVELOPE = {
    "edifact-orders-pydifact-order.edi": "the file ends before UNZ (interchange 807)",
    "edifact-orders-pydifact-wikipedia_de.edi": "UNZ02 '1234567' does not match UNB05 '1'",
}


@pytest.mark.parametrize("path", EDIFACT_FILES, ids=lambda p: p.name)
def test_every_shared_edifact_vector_parses_or_is_refused_with_a_reason(path: Path) -> None:
    events, rejected = parse_edifact(path.read_bytes())
    if path.name in REFUSED:
        assert events == []
        assert [r.reason for r in rejected if REFUSED[path.name] in r.reason], rejected
        return
    assert events, rejected
    if path.name in ENVELOPE:
        assert [r.reason for r in rejected if ENVELOPE[path.name] in r.reason], rejected
    else:
        assert rejected == []
    for event in events:
        assert event.type.startswith("edi.") and event.type.endswith(".received")
        assert event.keys and event.occurred_at.tzinfo is not None
        assert event.attributes["interchange_control_number"]
        kind = event.attributes["message_type"]
        if kind in ("ORDERS", "ORDRSP") or (kind in ("DESADV", "INVOIC") and "po_number" in
                                             event.keys):  # fmt: skip
            assert event.object_type == "purchase_order" and event.keys["po_number"]


def test_shared_vectors_map_their_business_numbers() -> None:
    by_name = {p.name: p for p in EDIFACT_FILES}
    if not by_name:
        pytest.skip("shared vectors absent")
    (order,) = parse_edifact(by_name["edifact-orders-pydifact-wikipedia_de.edi"].read_bytes())[0]
    assert order.keys["po_number"] == "B10001"
    assert order.occurred_at.isoformat() == "2006-06-20T09:31:00+00:00"  # DTM 137, format 203
    desadv_events = parse_edifact(by_name["edifact-desadv-phpedifact-D96ADESADV.edi"].read_bytes())
    assert [e.keys["po_number"] for e in desadv_events[0]] == ["6877871", "6905456"]
    (invoice,) = parse_edifact(by_name["edifact-invoic-pydifact-invoice1.edi"].read_bytes())[0]
    assert (invoice.keys["po_number"], invoice.attributes["invoice_number"]) == (
        "X18V00003",
        invoice.attributes["document_number"],
    )


def test_not_edifact_and_release_characters() -> None:
    with pytest.raises(EdifactError, match="not EDIFACT"):
        parse_edifact(b"ISA*00*...")
    with pytest.raises(EdifactError, match="no UNB envelope"):
        parse_edifact(b"UNH+1+ORDERS:D:96A:UN'BGM+220+1'UNT+3+1'")
    text = orders("PO?+1").decode()  # ?+ is a released plus sign inside the PO number
    found = segments(text.encode())
    assert [s.get(2) for s in found if s.tag == "BGM"] == ["PO+1"]


def test_a_broken_message_is_refused_and_the_others_kept() -> None:
    good = orders("PO-1", control="11").decode()
    # a second interchange in the same file (one UNA serves the whole file), its UNT wrong
    broken = orders("PO-2", control="12").decode().removeprefix("UNA:+.? '\n")
    broken = broken.replace("UNT+9+1", "UNT+10+1")
    events, rejected = parse_edifact((good + "\n" + broken).encode())
    assert [e.keys["po_number"] for e in events] == ["PO-1"]
    (problem,) = rejected
    assert problem.reason == (
        "segment 22 (UNT): message ORDERS 1: UNT01 says '10' segments, the message has 9"
    )


def test_purchase_order_messages_and_their_acknowledgement() -> None:
    (po,) = parse_edifact(orders())[0]
    assert (po.type, po.object_type, po.source) == ("edi.orders.received", "purchase_order",
                                                    "edi.BUYER")  # fmt: skip
    assert po.keys == {"po_number": "PO-4411", "edi_control_number": "BUYER/7001/1"}
    assert (po.attributes["lines"], po.attributes["currency"]) == (1, "EUR")
    (ack,) = parse_edifact(contrl("7001"))[0]
    assert ack.keys == {"edi_control_number": "BUYER/7001/1"}  # the ORDERS' own: they join
    assert (ack.type, ack.status, ack.attributes["ack_status"]) == (
        "edi.contrl.received",
        "ok",
        "accepted",
    )
    (nack,) = parse_edifact(contrl("7001", action="4"))[0]
    assert (nack.status, nack.error) == ("error", "ORDERS 1 rejected by the partner")
    (response,) = parse_edifact(ordrsp())[0]
    assert (response.keys["po_number"], response.attributes["response"]) == ("PO-4411", "accepted")
    assert response.occurred_at.isoformat() == "2026-11-24T08:30:00+00:00"
    (refusal,) = parse_edifact(ordrsp(function="27"))[0]
    assert refusal.status == "error"
    (asn,) = parse_edifact(desadv())[0]
    assert (asn.attributes["asn_number"], asn.attributes["bill_of_lading"]) == ("DES-77", "BOL-5")
    assert [r.model_dump() for r in asn.related] == [
        {"object_type": "shipment", "keys": {"asn_number": "DES-77"}}
    ]
    two = parse_edifact(desadv(("PO-1", "PO-2")))[0]
    assert [e.keys for e in two] == [{"po_number": "PO-1"}, {"po_number": "PO-2"}]
    (invoice,) = parse_edifact(invoic())[0]
    assert invoice.attributes["invoice_number"] == "INV-900"
    assert invoice.attributes["total"] == 1234.5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, 400), noise=st.binary(max_size=12), at=st.integers(0, 400))
def test_any_damaged_interchange_is_read_or_refused_never_crashes(
    cut: int, noise: bytes, at: int
) -> None:
    body = orders() + b"\n" + invoic().removeprefix(b"UNA:+.? '\n")
    damaged = body[:at] + noise + body[at:cut] if at < cut else body[:cut] + noise
    try:
        events, rejected = parse_edifact(damaged)
    except EdifactError as exc:
        assert str(exc)  # says why
        return
    for event in events:
        event.model_dump(mode="json")
    assert all(r.reason for r in rejected)
