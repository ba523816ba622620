"""POST /api/v1/edi with EDIFACT and `tower ingest --format edifact`: a PO journey over EDIFACT."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.adapters.edifact_docs import contrl, desadv, invoic, orders, ordrsp
from tests.servers import ThreadServer


def _post(client: httpx.Client, body: bytes) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/edi", content=body, headers={"Content-Type": "application/edifact"}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _journey(client: httpx.Client, key: str, stage: str) -> dict[str, Any]:
    """The journey `key` finds, once the correlator (every 2 s in the server) has it at `stage`."""
    deadline = time.monotonic() + 30
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = client.get("/api/v1/journeys/search", params={"q": key}).json()["items"]
        if found and found[0]["stage"] == stage:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no journey for {key} at stage {stage}: {found}")


def test_a_purchase_order_journey_from_orders_to_invoic_with_its_contrl(
    client: httpx.Client,
) -> None:
    for document in [orders(), contrl("7001"), ordrsp(), desadv(), invoic()]:
        assert _post(client, document)["events"] == {
            "accepted": 1,
            "duplicates": 0,
            "rejected": [],
        }
    assert _post(client, orders())["events"]["duplicates"] == 1
    by_po = client.get("/api/v1/events", params={"key": "PO-4411"}).json()["items"]
    assert sorted(e["type"] for e in by_po) == [
        "edi.desadv.received", "edi.invoic.received", "edi.orders.received", "edi.ordrsp.received",
    ]  # fmt: skip
    acks = client.get("/api/v1/events", params={"key": "BUYER/7001/1"}).json()["items"]
    assert sorted(e["type"] for e in acks) == ["edi.contrl.received", "edi.orders.received"]
    journey = _journey(client, "PO-4411", "invoiced")
    assert journey["kind"] == "purchase_order"


def test_broken_and_non_edifact_bodies_are_refused_and_kept(client: httpx.Client) -> None:
    broken = orders("PO-9", control="12").decode().replace("UNT+9+1", "UNT+4+1")
    answer = _post(client, broken.encode())
    assert answer["events"]["accepted"] == 0
    assert answer["refused"] == [
        {"segment": 11, "reason": "segment 11 (UNT): message ORDERS 1: UNT01 says '4' segments, "
         "the message has 9"}
    ]  # fmt: skip
    garbled = client.post("/api/v1/edi", content=b"UNB+UNOC:3+A+B+261123:0915+1'UNH+1+ORDERS?")
    assert garbled.status_code == 400
    assert garbled.json()["detail"].startswith("body is not EDIFACT: not readable as EDIFACT")
    reasons = [r["reason"] for r in client.get("/api/v1/rejects").json()["items"]]
    assert any(r.startswith("edifact: segment 11 (UNT)") for r in reasons)
    assert any(r.startswith("body is not EDIFACT") for r in reasons)


def test_tower_ingest_format_edifact(server: ThreadServer, tmp_path: Path) -> None:
    good = tmp_path / "orders.edi"
    good.write_bytes(orders("PO-CLI", control="55"))
    run = subprocess.run(
        [sys.executable, "-m", "tower", "ingest", "--format", "edifact", "--url", server.url,
         str(good)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    found = httpx.get(f"{server.url}/api/v1/events", params={"key": "PO-CLI"}).json()["items"]
    assert [e["type"] for e in found] == ["edi.orders.received"]
