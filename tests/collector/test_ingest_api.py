"""POST /api/v1/events against a real uvicorn server and a real DuckDB file."""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson

from tests.factories import make_event, make_events
from tests.servers import ThreadServer
from tower.settings import Settings

NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(events: list[object]) -> bytes:
    return b"\n".join(orjson.dumps(e) for e in events)


def stored_ids(server: ThreadServer) -> list[str]:
    store = server.app.state.store
    return [r["event_id"] for r in store.query("SELECT event_id FROM events", doing="test")]


def test_a_batch_with_bad_items_stores_the_good_ones_and_names_the_bad(
    client: httpx.Client, server: ThreadServer
) -> None:
    events: list[object] = list(make_events(5000, prefix="mixed"))
    events[17] = make_event(occurred_at="2026-11-23T09:15:00")  # naive time
    events[2500] = {"not": "an event"}
    events[4999] = "just a string"

    response = client.post("/api/v1/events", json=events)

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 4997
    assert body["duplicates"] == 0
    assert [r["index"] for r in body["rejected"]] == [17, 2500, 4999]
    assert "no time zone" in body["rejected"][0]["reason"]
    assert "unknown field(s): not" in body["rejected"][1]["reason"]
    assert "must be a JSON object, got varchar" in body["rejected"][2]["reason"]
    assert len(stored_ids(server)) == 4997

    rejects = client.get("/api/v1/rejects").json()["items"]
    assert [r["batch_index"] for r in rejects] == [4999, 2500, 17]  # newest first
    assert orjson.loads(rejects[1]["raw"]) == {"not": "an event"}


def test_replaying_a_batch_stores_nothing_twice(client: httpx.Client, server: ThreadServer) -> None:
    events = make_events(1000, prefix="replay")
    first = client.post("/api/v1/events", json=events).json()
    answers = [client.post("/api/v1/events", json=events).json() for _ in range(3)]

    assert first == {"accepted": 1000, "duplicates": 0, "rejected": []}
    assert answers == [{"accepted": 0, "duplicates": 1000, "rejected": []}] * 3
    assert sorted(stored_ids(server)) == sorted(e["event_id"] for e in events)


def test_duplicates_inside_one_batch_count_once(client: httpx.Client, server: ThreadServer) -> None:
    event = make_event()
    answer = client.post("/api/v1/events", json=[event, event, event]).json()

    assert answer == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert stored_ids(server) == [event["event_id"]]


def test_an_event_without_id_gets_a_stable_one(client: httpx.Client, server: ThreadServer) -> None:
    event = make_event(event_id=None)
    assert client.post("/api/v1/events", json=event).json()["accepted"] == 1
    # the same payload as NDJSON, with other whitespace, is recognised as the same event
    spaced = orjson.dumps(event, option=orjson.OPT_INDENT_2).replace(b"\n", b" ")
    again = client.post("/api/v1/events", content=spaced, headers=NDJSON).json()

    assert again == {"accepted": 0, "duplicates": 1, "rejected": []}
    [event_id] = stored_ids(server)
    assert event_id.startswith("md5:")


def test_concurrent_clients_each_event_stored_exactly_once(
    server: ThreadServer,
) -> None:
    # 8 clients, 20 batches each; every batch overlaps the previous client's, so the writer
    # sees the same event_id in one group commit from two requests.
    def post(client_no: int) -> list[str]:
        acked: list[str] = []
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for batch_no in range(20):
                events = make_events(250, prefix=f"c{client_no}-b{batch_no}")
                events += make_events(50, prefix=f"c{(client_no + 1) % 8}-b{batch_no}")
                response = http.post("/api/v1/events", content=ndjson(events), headers=NDJSON)
                assert response.status_code == 200, response.text
                assert response.json()["rejected"] == []
                acked += [e["event_id"] for e in events]
        return acked

    with ThreadPoolExecutor(8) as pool:
        acked = {event_id for ids in pool.map(post, range(8)) for event_id in ids}

    ids = stored_ids(server)
    assert len(ids) == len(set(ids)), "an event was stored twice"
    assert set(ids) == acked
    seqs = [
        r["seq"]
        for r in server.app.state.store.query("SELECT seq FROM events ORDER BY seq", doing="test")
    ]
    assert seqs == list(range(1, len(ids) + 1)), "ingest sequence has gaps or repeats"


def test_gzip_ndjson_is_accepted_and_blank_lines_ignored(client: httpx.Client) -> None:
    events = make_events(300, prefix="gz")
    body = gzip.compress(ndjson(events[:150]) + b"\n\n" + ndjson(events[150:]) + b"\n")
    answer = client.post(
        "/api/v1/events",
        content=body,
        headers={**NDJSON, "Content-Encoding": "gzip"},
    ).json()
    assert answer == {"accepted": 300, "duplicates": 0, "rejected": []}


def test_ndjson_rejects_carry_the_line_number(client: httpx.Client) -> None:
    body = ndjson([make_event()]) + b"\n\n" + b'{"broken": ' + b"\n" + ndjson([make_event()])
    answer = client.post("/api/v1/events", content=body, headers=NDJSON).json()

    assert answer["accepted"] == 2
    [reject] = answer["rejected"]
    assert (reject["index"], reject["line"]) == (1, 3)
    assert reject["reason"].startswith("not valid JSON:")


def test_a_single_object_is_a_batch_of_one(client: httpx.Client) -> None:
    assert client.post("/api/v1/events", json=make_event()).json()["accepted"] == 1


def test_a_body_that_is_not_json_is_400_and_still_recorded(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/events",
        content=b"order W-1001 shipped",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "not JSON" in response.json()["detail"]
    [reject] = client.get("/api/v1/rejects").json()["items"]
    assert reject["raw"] == "order W-1001 shipped"
    assert reject["batch_index"] is None


def test_ndjson_sent_as_json_gets_a_hint(client: httpx.Client) -> None:
    body = ndjson([make_event(), make_event()])
    response = client.post(
        "/api/v1/events", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "application/x-ndjson" in response.json()["detail"]


def test_unknown_content_type_is_415(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/events", content=b"<order/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    response = client.post(
        "/api/v1/events",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Encoding": "br"},
    )
    assert response.status_code == 415


def test_bodies_over_the_limit_are_413(tmp_path) -> None:
    settings = Settings(db_path=tmp_path / "t.duckdb", max_body_bytes=64 * 1024)
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as http:
        big = ndjson(make_events(1000, prefix="big"))
        assert len(big) > 64 * 1024
        assert http.post("/api/v1/events", content=big, headers=NDJSON).status_code == 413
        # small on the wire, too big once inflated: refused without inflating it all
        bomb = gzip.compress(b" " * (10 * 1024 * 1024))
        response = http.post(
            "/api/v1/events", content=bomb, headers={**NDJSON, "Content-Encoding": "gzip"}
        )
        assert response.status_code == 413
        # chunked upload with no Content-Length is counted as it arrives
        response = http.post(
            "/api/v1/events", content=iter([big[:40_000], big[40_000:]]), headers=NDJSON
        )
        assert response.status_code == 413
        assert server.app.state.store.scalar("SELECT count(*) FROM events", doing="t") == 0


def test_a_full_writer_queue_answers_429_with_retry_after(tmp_path) -> None:
    settings = Settings(db_path=tmp_path / "t.duckdb", writer_queue_max_events=500)
    with ThreadServer(settings) as server:
        store = server.app.state.store
        first = make_events(400, prefix="held")
        with ThreadPoolExecutor(1) as pool, httpx.Client(base_url=server.url, timeout=60) as http:
            # Hold the real write lock so the writer cannot commit: the queue fills up.
            with store._lane("ingest")[1]:
                pending = pool.submit(http.post, "/api/v1/events", json=first)
                _wait_for(lambda: server.app.state.collector.writer.queued_events >= 400)
                busy = http.post("/api/v1/events", json=make_events(200, prefix="late"))
            assert busy.status_code == 429
            assert busy.headers["Retry-After"] == "1"
            assert pending.result().json()["accepted"] == 400
        assert store.scalar("SELECT count(*) FROM events", doing="t") == 400


def _wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_related_objects_are_links_searchable_by_their_keys(
    client: httpx.Client,
) -> None:
    shipment = make_event(
        type="shipment.shipped",
        object_type="shipment",
        keys={"wms_shipment": "SH-77", "carrier_tracking": "1Z999"},
        related=[{"object_type": "order", "keys": {"oms_order": f"W-{n}"}} for n in (1, 2, 3)],
    )
    order = make_event(keys={"oms_order": "W-2", "erp_sales_order": "4500012"})
    client.post("/api/v1/events", json=[shipment, order])

    own = client.get("/api/v1/events", params={"key": "W-2"}).json()["items"]
    assert [e["event_id"] for e in own] == [order["event_id"]]
    both = client.get("/api/v1/events", params={"key": "W-2", "include_related": True}).json()
    assert {e["event_id"] for e in both["items"]} == {order["event_id"], shipment["event_id"]}
    [stored] = client.get("/api/v1/events", params={"key": "1Z999"}).json()["items"]
    assert stored["related"] == shipment["related"]
    assert stored["keys"] == shipment["keys"]


def test_nan_in_one_ndjson_line_rejects_only_that_line(
    client: httpx.Client, server: ThreadServer
) -> None:
    good = make_events(3, prefix="nan")
    bad = orjson.dumps(make_event()).replace(b'"quantity":2', b'"quantity":NaN')
    body = ndjson(good[:2]) + b"\n" + bad + b"\n" + ndjson(good[2:])
    answer = client.post("/api/v1/events", content=body, headers=NDJSON).json()

    assert answer["accepted"] == 3
    assert [(r["index"], r["line"]) for r in answer["rejected"]] == [(2, 3)]
    assert answer["rejected"][0]["reason"].startswith("not valid JSON")
    # everything stored can be read back
    assert client.get("/api/v1/events").status_code == 200
