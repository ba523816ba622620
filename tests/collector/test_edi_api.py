"""POST /api/v1/edi and `tower ingest --format x12`: a purchase order's journey over EDI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.adapters.x12_docs import ack_997, asn_856, invoice_810, po_850, po_855
from tests.servers import ThreadServer


def _post(client: httpx.Client, body: bytes) -> dict[str, object]:
    answer = client.post(
        "/api/v1/edi", content=body, headers={"Content-Type": "application/edi-x12"}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_a_purchase_order_journey_from_850_to_810_with_its_997s(client: httpx.Client) -> None:
    documents = [po_850(), ack_997(101, "850"), po_855(), ack_997(201, "855", control=901),
                 asn_856(), invoice_810()]  # fmt: skip
    for document in documents:
        assert _post(client, document)["events"] == {
            "accepted": 1,
            "duplicates": 0,
            "rejected": [],
        }
    again = _post(client, po_850())
    assert again["events"]["duplicates"] == 1  # type: ignore[index]

    by_po = client.get("/api/v1/events", params={"key": "PO-7781"}).json()["items"]
    assert sorted(e["type"] for e in by_po) == [
        "edi.810.received", "edi.850.received", "edi.855.received", "edi.856.received",
    ]  # fmt: skip
    acks = client.get("/api/v1/events", params={"key": "DISTRIB/101/0001"}).json()["items"]
    assert sorted(e["type"] for e in acks) == ["edi.850.received", "edi.997.received"]


def test_broken_and_non_x12_bodies_are_refused_and_kept(client: httpx.Client) -> None:
    broken = po_850("PO-9", control=12).decode().replace("SE*5*0001", "SE*9*0001")
    body = (po_850("PO-8", control=11).decode() + "\n" + broken).encode()
    answer = _post(client, body)
    assert answer["events"]["accepted"] == 1  # type: ignore[index]
    assert answer["refused"] == [
        {"segment": 16, "reason": "segment 16 (SE) of transaction set 850 0001: SE01 says '9' "
         "segments, the set has 5"}
    ]  # fmt: skip
    not_x12 = client.post("/api/v1/edi", content=b"hello, this is not EDI")
    assert not_x12.status_code == 400
    assert not_x12.json()["detail"].startswith("body is not X12: segment 1: not X12")
    reasons = [r["reason"] for r in client.get("/api/v1/rejects").json()["items"]]
    assert any(r.startswith("x12: segment 16 (SE)") for r in reasons)
    assert any(r.startswith("body is not X12") for r in reasons)


def test_tower_ingest_format_x12(server: ThreadServer, tmp_path: Path) -> None:
    good = tmp_path / "po.edi"
    good.write_bytes(po_850("PO-CLI", control=55))
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"not edi")
    run = subprocess.run(
        [sys.executable, "-m", "tower", "ingest", "--format", "x12", "--url", server.url,
         str(good), str(bad)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr  # one file refused
    assert "accepted" in run.stderr and "not X12" in run.stderr
    found = httpx.get(f"{server.url}/api/v1/events", params={"key": "PO-CLI"}).json()["items"]
    assert [e["type"] for e in found] == ["edi.850.received"]
