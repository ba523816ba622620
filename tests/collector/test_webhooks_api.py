"""POST /api/v1/webhooks/{mapping} on a real server: payloads become stored events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import ThreadServer
from tests.vectors import VECTORS
from tower.settings import Settings

USER_MAPPING = """
description: A test WMS pick confirmation.
source: wms.test
system: wms
events:
  - for_each: payload.picks
    type: order.picked
    object_type: order
    occurred_at: item.at
    keys: {wms_order: item.order}
    attributes: {sku: item.sku}
"""

CONFIRMATION = {
    "shipment_id": "SH-77",
    "warehouse": "DC-WEST",
    "shipped_at": "2026-11-23T14:05:00Z",
    "carrier": "UPS",
    "tracking_number": "1Z777",
    "orders": [
        {"order_id": "W-7001", "lines": [{"sku": "SKU-1", "quantity": 2}]},
        {"order_id": "W-7002", "lines": [{"sku": "SKU-2", "quantity": 1}]},
    ],
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "pick-confirm.yaml").write_text(USER_MAPPING)
    settings = Settings(db_path=tmp_path / "tower.duckdb", webhook_mappings_dir=folder)
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def _post(client: httpx.Client, mapping: str, body: Any, **headers: str) -> httpx.Response:
    return client.post(
        f"/api/v1/webhooks/{mapping}",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


def _events(client: httpx.Client, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/v1/events", params={"key": key}).json()["items"]
    return items


def test_a_shipment_confirmation_becomes_shipment_and_order_events(client: httpx.Client) -> None:
    answer = _post(client, "wms-shipment", CONFIRMATION)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "mapping": "wms-shipment",
        "events": {"accepted": 3, "duplicates": 0, "rejected": []},
        "refused": [],
    }
    again = _post(client, "wms-shipment", CONFIRMATION).json()
    assert again["events"]["duplicates"] == 3  # a redelivered webhook stores nothing twice
    (shipment,) = _events(client, "SH-77")
    assert (shipment["type"], shipment["facility"], shipment["source"]) == (
        "shipment.shipped",
        "DC-WEST",
        "wms.ship-confirm",
    )
    assert [e["type"] for e in _events(client, "W-7002")] == ["order.shipped"]

    # one order without an id: that event is refused by name, the others are stored
    partial = CONFIRMATION | {
        "shipment_id": "SH-78",
        "orders": [{"order_id": "W-7003", "lines": []}, {"lines": []}],
    }
    answer = _post(client, "wms-shipment", partial)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["events"]["accepted"] == 2
    assert result["refused"] == [
        {
            "index": 2,
            "reason": "event 2 (wms-shipment events[1] (order)): keys: every key expression "
            "gave nothing (wms_order: jmespath 'item.order_id')",
        }
    ]
    rejects = client.get("/api/v1/rejects").json()["items"]
    kept = [r for r in rejects if r["reason"].startswith("webhook wms-shipment: event 2")]
    assert kept and json.loads(kept[0]["raw"])["shipment_id"] == "SH-78"


def test_unknown_mapping_bad_body_and_unusable_payload_are_clear_errors(
    client: httpx.Client,
) -> None:
    unknown = _post(client, "shopify-orders", {})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        "no webhook mapping named 'shopify-orders'; known mappings: amazon-sp-api, pick-confirm, "
        "shopify-fulfillment, shopify-order, wms-shipment"
    )
    not_json = client.post("/api/v1/webhooks/wms-shipment", content=b"shipment=SH-1&ok=1")
    assert not_json.status_code == 400
    assert not_json.json()["detail"].startswith(
        "webhook body for mapping 'wms-shipment' is not JSON"
    )
    unusable = _post(client, "wms-shipment", {"hello": "world"})
    assert unusable.status_code == 422
    assert unusable.json()["detail"].startswith(
        "mapping 'wms-shipment' built no event from the payload: event 0 (wms-shipment "
        "events[0] (shipment)): occurred_at: jmespath 'item.shipped_at' gave nothing"
    )
    # an event the mapping built but the contract refuses is listed like any posted event
    bad_time = _post(client, "pick-confirm", {"picks": [{"order": "W-1", "at": "yesterday"}]})
    assert bad_time.status_code == 200
    (rejected,) = bad_time.json()["events"]["rejected"]
    assert rejected["index"] == 0 and "occurred_at" in rejected["reason"]
    reasons = [r["reason"] for r in client.get("/api/v1/rejects").json()["items"]]
    assert any(r.startswith("webhook body for mapping 'wms-shipment' is not JSON") for r in reasons)
    assert any(r.startswith("webhook wms-shipment: event 0") for r in reasons)


def test_a_user_mapping_is_served_and_listed(client: httpx.Client) -> None:
    listed = {m["name"]: m for m in client.get("/api/v1/webhooks").json()}
    assert listed["pick-confirm"]["description"] == "A test WMS pick confirmation."
    assert {"shopify-order", "shopify-fulfillment", "wms-shipment"} <= set(listed)
    body = {"picks": [{"order": "W-9", "sku": "A", "at": "2026-11-23T08:00:00Z"}]}
    assert _post(client, "pick-confirm", body).json()["events"]["accepted"] == 1
    assert [e["type"] for e in _events(client, "W-9")] == ["order.picked"]


def test_a_shopify_order_webhook_joins_its_fulfillment(client: httpx.Client) -> None:
    fixture = VECTORS / "webhooks" / "shopify-rest-order.json"
    if not fixture.is_file():
        pytest.skip(f"shared vectors not found at {fixture.parent} (../shared is absent)")
    order = json.loads(fixture.read_text(encoding="utf-8"))["order"]  # the webhook body
    answer = _post(client, "shopify-order", order, **{"X-Shopify-Topic": "orders/create"})
    assert answer.json()["events"] == {"accepted": 2, "duplicates": 0, "rejected": []}
    found = client.get(
        "/api/v1/events", params={"key": "450789469", "include_related": "true"}
    ).json()["items"]
    assert sorted(e["type"] for e in found) == ["channel.order.created", "shipment.exception"]
    placed = next(e for e in found if e["type"] == "channel.order.created")
    assert placed["attributes"]["topic"] == "orders/create"
    # the customer's e-mail address is redacted at ingest, like any event's (security.md)
    assert placed["attributes"]["customer"].startswith("pii:")
    assert "@" not in json.dumps(found)
