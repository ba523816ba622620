"""Reading back: event search and paging, rejects, health, metrics, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.factories import make_event, make_events


def test_events_filter_by_any_key_type_source_and_time(client: httpx.Client) -> None:
    accepted = make_event(
        type="order.accepted",
        system="oms",
        source="oms.web",
        facility=None,
        occurred_at="2026-11-23T08:00:00Z",
        keys={"oms_order": "W-1001", "erp_sales_order": "4500012"},
    )
    picked = make_event(
        type="order.picked",
        occurred_at="2026-11-23T11:00:00Z",
        keys={"wms_order": "P-88", "erp_sales_order": "4500012"},
    )
    other = make_event(type="order.picked", occurred_at="2026-11-23T12:00:00Z")
    client.post("/api/v1/events", json=[accepted, picked, other])

    def ids(**params: object) -> list[str]:
        response = client.get("/api/v1/events", params=params)
        assert response.status_code == 200, response.text
        return [e["event_id"] for e in response.json()["items"]]

    assert ids(key="4500012") == [picked["event_id"], accepted["event_id"]]  # newest first
    assert ids(key="4500012", namespace="oms_order") == []
    assert ids(key="W-1001", namespace="oms_order") == [accepted["event_id"]]
    assert ids(key="4500012", type="order.accepted") == [accepted["event_id"]]
    assert ids(source="oms.web") == [accepted["event_id"]]
    assert ids(system="wms", type="order.picked") == [other["event_id"], picked["event_id"]]
    assert ids(since="2026-11-23T10:00:00Z", until="2026-11-23T12:00:00Z") == [picked["event_id"]]
    assert ids(key="no-such-id") == []


def test_events_page_with_a_cursor_until_the_end(client: httpx.Client) -> None:
    events = make_events(250, prefix="page")
    client.post("/api/v1/events", json=events)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/events", params=params).json()
        seen += [e["event_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [e["event_id"] for e in reversed(events)]


def test_stored_events_come_back_normalised(client: httpx.Client) -> None:
    event = make_event(occurred_at="2026-11-23T09:15:00.5-05:00", attributes={"value": 1820.5})
    client.post("/api/v1/events", json=event)
    [stored] = client.get("/api/v1/events", params={"key": event["keys"]["oms_order"]}).json()[
        "items"
    ]
    assert stored["occurred_at"] == "2026-11-23T14:15:00.500000Z"
    assert stored["received_at"].endswith("Z")
    assert stored["attributes"] == {"value": 1820.5}
    assert stored["status"] == "ok"
    assert stored["seq"] == 1


def test_bad_query_parameters_are_422(client: httpx.Client) -> None:
    assert client.get("/api/v1/events", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/events", params={"limit": 5000}).status_code == 422
    assert client.get("/api/v1/events", params={"cursor": "abc"}).status_code == 422
    assert client.get("/api/v1/events", params={"since": "yesterday"}).status_code == 422


def test_rejects_page_newest_first(client: httpx.Client) -> None:
    for n in range(3):
        client.post("/api/v1/events", json=[make_event(system=f"bad{n}")])
    first = client.get("/api/v1/rejects", params={"limit": 2}).json()
    rest = client.get("/api/v1/rejects", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    raws = [r["raw"] for r in first["items"] + rest["items"]]
    assert ['"bad2"' in raws[0], '"bad1"' in raws[1], '"bad0"' in raws[2]] == [True] * 3
    assert rest["next_cursor"] is None


def test_health_reports_schema_and_counts(client: httpx.Client) -> None:
    client.post("/api/v1/events", json=make_events(7, prefix="health"))
    health = client.get("/api/v1/health").json()
    migrations = Path(__file__).parents[2] / "tower" / "migrations"
    assert {k: health[k] for k in ("status", "schema_version", "events", "last_seq")} == {
        "status": "ok",
        "schema_version": max(int(f.name[:3]) for f in migrations.glob("*.sql")),
        "events": 7,
        "last_seq": 7,
    }
    assert health["writer_queue_events"] == 0


def test_metrics_count_what_ingest_did(client: httpx.Client) -> None:
    events = make_events(5, prefix="metrics")
    client.post("/api/v1/events", json=[*events, {"bad": True}])
    client.post("/api/v1/events", json=events)
    text = client.get("/metrics").text
    assert "tower_events_accepted_total 5.0" in text
    assert "tower_events_duplicate_total 5.0" in text
    assert "tower_events_rejected_total 1.0" in text
    assert "tower_batch_commit_seconds_count 2.0" in text
    assert "tower_writer_queue_events 0.0" in text


def test_openapi_documents_the_event_body(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-ndjson"}
    event = schema["components"]["schemas"]["Event"]
    assert {"occurred_at", "keys", "related"} <= set(event["properties"])
    assert "RelatedObject" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200
