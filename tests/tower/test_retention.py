"""Retention on a real server and DuckDB file: old raw data to Parquet, still searchable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx

from correlator.jobs import run_once as correlate
from correlator.models import load_models
from tests.factories import make_event
from tests.servers import ThreadServer
from tower.retention.jobs import Policy, run_once
from tower.settings import Settings

OLD = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = Policy(
    events=timedelta(days=90),
    telemetry=timedelta(days=14),
    queue_samples=timedelta(days=14),
    rejects=timedelta(days=30),
    history=timedelta(days=400),
)


def order(order_id: str, type: str, at: datetime) -> dict[str, object]:
    return make_event(
        event_id=f"{order_id}:{type}",
        type=type,
        occurred_at=at.isoformat(),
        keys={"oms_order": order_id},
    )


def test_idle_journeys_move_to_parquet_and_live_ones_stay_whole(tmp_path: Path) -> None:
    clock = {"now": OLD}
    settings = Settings(db_path=tmp_path / "tower.duckdb")
    with (
        ThreadServer(settings, clock=lambda: clock["now"]) as tower,
        httpx.Client(base_url=tower.url) as http,
    ):
        store = tower.app.state.store
        # Received long ago: W-OLD's whole journey, W-LIVE's start, an old queue sample.
        assert http.post("/api/v1/events", json=[
            order("W-OLD", "order.accepted", OLD),
            order("W-OLD", "order.shipped", OLD + timedelta(hours=5)),
            order("W-LIVE", "order.accepted", OLD),
        ]).json()["accepted"] == 3  # fmt: skip
        sample = {"broker": "mq", "vhost": "/", "queue": "orders.in", "depth": 3}
        old_sample = {**sample, "sampled_at": OLD.isoformat()}
        assert http.post("/api/v1/queues/samples", json=[old_sample]).json()["accepted"] == 1
        # Received now: W-LIVE moves on.
        clock["now"] = NOW
        assert (
            http.post("/api/v1/events", json=[order("W-LIVE", "order.shipped", NOW)]).json()[
                "accepted"
            ]
            == 1
        )
        correlate(store=store, models=load_models())

        report = run_once(store=store, policy=POLICY, archive_dir=tmp_path / "archive", now=NOW)

        assert report.archived == {"events": 2}
        assert report.deleted == {"queue_samples": 1}
        [archive] = report.files
        assert archive.parent == tmp_path / "archive" / "events"
        live = http.get("/api/v1/events", params={"key": "W-OLD"}).json()["items"]
        assert live == []
        found = http.get("/api/v1/events", params={"key": "W-OLD", "archive": "true"}).json()
        assert [e["type"] for e in found["items"]] == ["order.shipped", "order.accepted"]
        assert found["items"][0]["keys"] == {"oms_order": "W-OLD"}
        # A journey still moving keeps every event, old ones too (it can be rebuilt from them).
        kept = http.get("/api/v1/events", params={"key": "W-LIVE"}).json()["items"]
        assert len(kept) == 2
        # The idle journey is still found by its ID; its summary stays.
        journeys = http.get("/api/v1/journeys/search", params={"q": "W-OLD"}).json()["items"]
        assert len(journeys) == 1

        again = run_once(store=store, policy=POLICY, archive_dir=tmp_path / "archive", now=NOW)
        assert again.archived == {} and again.deleted == {}

    with duckdb.connect(str(archive), read_only=False) as con:
        rows = con.execute(
            "SELECT event_id, key_values FROM read_parquet($p) ORDER BY seq", {"p": str(archive)}
        ).fetchall()
    assert rows == [("W-OLD:order.accepted", ["W-OLD"]), ("W-OLD:order.shipped", ["W-OLD"])]


def test_an_uncorrelated_event_is_never_archived(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "tower.duckdb")
    with (
        ThreadServer(settings, clock=lambda: OLD) as tower,
        httpx.Client(base_url=tower.url) as http,
    ):
        http.post("/api/v1/events", json=[order("W-1", "order.accepted", OLD)])
        # the correlator has not run: the event must wait for it, however old
        report = run_once(
            store=tower.app.state.store, policy=POLICY, archive_dir=tmp_path / "a", now=NOW
        )
        assert report.archived == {}
