"""The X12 parser: delimiters from ISA, envelopes checked, documents mapped; every shared vector."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.x12 import X12Error, parse_x12, tokenize
from tests.adapters.x12_docs import ack_997, asn_856, interchange, invoice_810, po_850, po_855
from tests.vectors import vector_files

X12_FILES = vector_files("edi", "x12-*")
# Vectors refused on purpose (or with real faults), and why; every other one yields events.
REFUSED = {
    "x12-810-x12types-adobe.edi": "SE01 says '44' segments, the set has 45",
    "x12-855-x12types-005010.edi": "SE01 says '10' segments, the set has 6",
    "x12-945-x12types-945.edi": "SE01 says '12' segments, the set has 16",
    "x12-invalid-ediengine-940_Failed_SE01.edi": "SE01 says '12' segments, the set has 9",
    "x12-invalid-ediengine-ControlNumbersMismatch.edi": "SE02 '0002' does not match ST02 '0001'",
}
NOT_X12 = {
    "x12-invalid-ediengine-NonEdi.edi": "not X12",
    "x12-997-x12types-reject-no-envelope.edi": "no ISA envelope",
}


@pytest.mark.parametrize("path", X12_FILES, ids=lambda p: p.name)
def test_every_shared_x12_vector_parses_or_is_refused_with_a_reason(path: Path) -> None:
    if path.name in NOT_X12:
        with pytest.raises(X12Error, match=NOT_X12[path.name]):
            parse_x12(path.read_bytes())
        return
    events, rejected = parse_x12(path.read_bytes())
    if path.name in REFUSED:
        assert events == []
        assert any(REFUSED[path.name] in r.reason for r in rejected), rejected
        return
    assert events, rejected
    for event in events:
        assert event.type.startswith("edi.") and event.system == "edi"
        assert event.keys and event.occurred_at.tzinfo is not None
        assert event.attributes["interchange_control_number"]


def test_delimiters_come_from_the_isa_segment() -> None:
    text = po_850().decode().replace("*", "|").replace("~", "!").replace(">", "^")
    segments = tokenize(text.encode())
    assert [s.tag for s in segments][:4] == ["ISA", "GS", "ST", "BEG"]
    assert segments[3].get(3) == "PO-7781"


def test_a_broken_document_is_refused_and_the_others_kept() -> None:
    good = po_850("PO-1", control=11).decode()
    broken = po_850("PO-2", control=12).decode().replace("SE*5*0001", "SE*9*0001")
    events, rejected = parse_x12((good + "\n" + broken).encode())
    assert [e.keys["po_number"] for e in events] == ["PO-1"]
    (problem,) = rejected
    assert problem.index == 16  # the SE of the second interchange (9 + 7)
    assert "SE01 says '9' segments, the set has 5" in problem.reason


def test_purchase_order_documents_and_their_acknowledgements() -> None:
    (po,) = parse_x12(po_850())[0]
    assert (po.type, po.object_type) == ("edi.850.received", "purchase_order")
    assert po.keys == {"po_number": "PO-7781", "edi_control_number": "DISTRIB/101/0001"}
    assert po.source == "edi.DISTRIB"
    assert po.attributes["partner"] == "DISTRIB"
    (ack,) = parse_x12(ack_997(101, "850"))[0]
    assert ack.keys == {"edi_control_number": "DISTRIB/101/0001"}  # the 850's: they join
    assert (ack.type, ack.status, ack.attributes["ack_status"]) == (
        "edi.997.received",
        "ok",
        "accepted",
    )
    (nack,) = parse_x12(ack_997(101, "850", status="R"))[0]
    assert (nack.status, nack.attributes["ack_status"]) == ("error", "rejected")
    (asn,) = parse_x12(asn_856())[0]
    assert asn.keys["po_number"] == "PO-7781"
    assert asn.attributes["asn_number"] == "ASN-55"
    assert asn.attributes["bill_of_lading"] == "BOL-9"
    assert [r.model_dump() for r in asn.related] == [
        {"object_type": "shipment", "keys": {"asn_number": "ASN-55"}}
    ]
    assert asn.occurred_at.isoformat() == "2026-11-25T14:00:00+00:00"
    (invoice,) = parse_x12(invoice_810())[0]
    assert (invoice.keys["po_number"], invoice.attributes["invoice_number"]) == ("PO-7781", "INV-3")
    (confirm,) = parse_x12(po_855())[0]
    assert (confirm.type, confirm.attributes["ack_type"]) == ("edi.855.received", "AC")


def test_warehouse_sets_and_interchange_acknowledgements() -> None:
    order = ["W05*N*DO-5521*PO-88**MR-1", "N1*WH*DC EAST*9*0001", "LX*1", "W01*12*CA*001*VN*SKU-1"]
    (w940,) = parse_x12(interchange("DISTRIB", "3PL", 501, "OW", "940", order))[0]
    assert (w940.type, w940.object_type) == ("edi.940.received", "order")
    assert w940.keys == {"depositor_order": "DO-5521", "edi_control_number": "DISTRIB/501/0001"}
    assert (w940.attributes["customer_po"], w940.attributes["warehouse"]) == ("PO-88", "0001")
    advice = ["W06*N*DO-5521*20261124*SHP-9**PO-88", "N9*BM*BOL-1", "W12*CC*10", "W03*10"]
    (w945,) = parse_x12(interchange("3PL", "DISTRIB", 601, "SW", "945", advice))[0]
    assert w945.keys == {"depositor_order": "DO-5521", "edi_control_number": "3PL/601/0001"}
    assert [r.model_dump() for r in w945.related] == [
        {"object_type": "shipment", "keys": {"wms_shipment": "SHP-9"}}
    ]
    assert (w945.attributes["bill_of_lading"], w945.attributes["quantity"]) == ("BOL-1", 10.0)
    assert w945.occurred_at.isoformat() == "2026-11-24T00:00:00+00:00"
    stock = ["BIA*00*MB*INV-7*20261123*0800", "LIN**VN*V-1*SK*SKU-1", "QTY*17*40",
             "LIN**SK*SKU-2", "QTY*17*0"]  # fmt: skip
    (w846,) = parse_x12(interchange("3PL", "DISTRIB", 701, "IB", "846", stock))[0]
    assert w846.object_type == "inventory"
    assert w846.attributes["items"] == [
        {"sku": "SKU-1", "quantity": 40.0, "quantity_qualifier": "17"},
        {"sku": "SKU-2", "quantity": 0.0, "quantity_qualifier": "17"},
    ]
    ta1 = (
        "ISA*00*          *00*          *ZZ*3PL            *ZZ*DISTRIB        *261123*0915*U*00401"
        "*000000902*0*P*>~TA1*000000501*261123*0916*R*022~IEA*0*000000902~"
    )
    (ack,) = parse_x12(ta1.encode())[0]
    assert (ack.type, ack.status, ack.keys) == (
        "edi.ta1.received",
        "error",
        {"edi_control_number": "DISTRIB/000000501"},
    )
    assert ack.attributes["ack_status"] == "rejected"
