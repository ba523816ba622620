"""POST /api/v1/queues/samples and /metrics, GET /api/v1/queues, through a real tower."""

from __future__ import annotations

import httpx

from tests.servers import ThreadServer
from tower.db import load_queries


def _sample(**overrides: object) -> dict[str, object]:
    sample: dict[str, object] = {
        "broker": "mq-1",
        "vhost": "/",
        "queue": "orders.in",
        "depth": 10,
        "sampled_at": "2026-11-23T09:00:00Z",
    }
    sample.update(overrides)
    return sample


def test_samples_are_stored_once_and_read_back_newest_first(client: httpx.Client) -> None:
    batch = [
        _sample(depth=10, ready=7, unacked=3, consumers=2, publish_rate=1.5),
        _sample(depth=25, sampled_at="2026-11-23T09:01:00Z", oldest_age_seconds=42.0),
        _sample(queue="orders.dlq", depth=1),
        _sample(queue="parcels", depth=-1),
        {"broker": "mq-1", "queue": "x", "depth": 1, "colour": "blue"},
    ]
    answer = client.post("/api/v1/queues/samples", json=batch)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 3
    assert [(r["index"], r["reason"].split(":")[0]) for r in body["rejected"]] == [
        (3, "depth"),
        (4, "colour"),
    ]
    again = client.post("/api/v1/queues/samples", json=batch[:3]).json()
    assert again["accepted"] == 3  # a retry is safe: nothing is stored twice

    queues = {q["queue"]: q for q in client.get("/api/v1/queues").json()["items"]}
    assert set(queues) == {"orders.in", "orders.dlq"}
    orders = queues["orders.in"]
    assert [s["depth"] for s in orders["history"]] == [25, 10]
    assert orders["latest"]["oldest_age_seconds"] == 42.0
    assert orders["history"][1]["consumers"] == 2
    assert orders["latest"]["origin"] == "api"
    assert queues["orders.dlq"]["dead_letter"] is True  # judged by its name
    assert not orders["dead_letter"]

    only_dead = client.get("/api/v1/queues", params={"dead_letter": True}).json()["items"]
    assert [q["queue"] for q in only_dead] == ["orders.dlq"]
    short = client.get("/api/v1/queues", params={"queue": "orders.in", "history": 1}).json()
    assert [s["depth"] for s in short["items"][0]["history"]] == [25]

    rejects = client.get("/api/v1/rejects").json()["items"]
    assert any(r["reason"].startswith("queue sample: depth") for r in rejects)


def test_one_object_and_an_unreadable_body(client: httpx.Client) -> None:
    assert client.post("/api/v1/queues/samples", json=_sample()).json()["accepted"] == 1
    bad = client.post(
        "/api/v1/queues/samples", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("body is not JSON")


def test_pushed_prometheus_text(client: httpx.Client) -> None:
    text = (
        'kafka_consumergroup_lag{consumergroup="billing",topic="invoices",partition="0"} 5\n'
        'kafka_consumergroup_lag{consumergroup="billing",topic="invoices",partition="1"} 7\n'
    )
    answer = client.post(
        "/api/v1/queues/metrics",
        params={"broker": "kafka.prod"},
        content=text,
        headers={"Content-Type": "text/plain"},
    ).json()
    assert answer == {"accepted": 1, "rejected": []}
    (queue,) = client.get("/api/v1/queues", params={"broker": "kafka.prod"}).json()["items"]
    assert (queue["queue"], queue["latest"]["depth"], queue["latest"]["origin"]) == (
        "billing/invoices",
        12,
        "prometheus",
    )


def test_the_sla_engine_reads_the_table(server: ThreadServer, client: httpx.Client) -> None:
    client.post(
        "/api/v1/queues/samples",
        json=[
            _sample(queue="q.dlq", depth=2, sampled_at="2026-11-23T09:00:00Z"),
            _sample(queue="q.dlq", depth=9, sampled_at="2026-11-23T10:00:00Z",
                    oldest_age_seconds=30.0),
        ],
    )  # fmt: skip
    store = server.app.state.store
    sla_sql = load_queries("sla")
    depth = store.query(
        sla_sql["queue_depth"], {"now": "2026-11-23T11:00:00Z", "queues": None}, doing="test"
    )
    assert [(r["queue"], r["depth"], r["oldest_age_seconds"]) for r in depth] == [
        ("q.dlq", 9, 30.0)
    ]
    growth = store.query(
        sla_sql["dead_letters"],
        {"now": "2026-11-23T11:00:00Z", "since": "2026-11-23T09:30:00Z", "queues": ["q.dlq"]},
        doing="test",
    )
    assert [(r["queue"], r["growth"]) for r in growth] == [("q.dlq", 7)]
