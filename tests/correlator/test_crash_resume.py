"""SIGKILL while the correlator stitches: it resumes and ends where a calm run does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from correlator.jobs import run_once as correlate
from correlator.models import load_models
from tests.factories import make_event
from tests.servers import ProcessServer, ThreadServer
from tower.settings import Settings

pytestmark = pytest.mark.slow

ORDERS = 1500
STEPS = ("order.accepted", "order.allocated", "order.picked", "order.shipped")


def estate() -> list[dict[str, Any]]:
    """Orders whose later events carry a second alias (the ERP number) as well."""
    events = []
    for step, type in enumerate(STEPS):
        for n in range(ORDERS):
            keys = {"oms_order": f"W-{n}"}
            if step:
                keys["erp_sales_order"] = str(4_500_000 + n)
            events.append(
                make_event(
                    event_id=f"W-{n}:{type}",
                    type=type,
                    occurred_at=f"2026-11-23T{8 + step:02d}:{n % 60:02d}:00Z",
                    keys=keys,
                )
            )
    return events


def journeys(db: Path) -> set[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT label, stage, event_count FROM journeys ORDER BY label"
        ).fetchall()
        watermark = con.execute(
            "SELECT value FROM correlator_state WHERE name = 'watermark'"
        ).fetchone()
        newest = con.execute("SELECT max(seq) FROM events").fetchone()
        doubled = con.execute(
            "SELECT count(*) FROM (SELECT journey_id, seq FROM journey_events"
            " GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
    assert watermark == newest, "the correlator did not finish"
    assert doubled == (0,), "an event was stitched into a journey twice"
    return set(rows)


def waiting(http: httpx.Client) -> float:
    """Events stored but not yet stitched, as the tower's /metrics says."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("tower_correlator_events_waiting "):
            return float(line.split()[1])
    raise AssertionError("/metrics has no tower_correlator_events_waiting")


def test_sigkill_mid_correlation_resumes_to_the_same_journeys(tmp_path: Path) -> None:
    events = estate()

    # The reference: the same events, stitched in one calm run.
    calm = Settings(db_path=tmp_path / "calm.duckdb", correlate_every="1h")  # type: ignore[arg-type]
    with ThreadServer(calm) as tower, httpx.Client(base_url=tower.url, timeout=60) as http:
        for start in range(0, len(events), 5000):
            http.post("/api/v1/events", json=events[start : start + 5000]).raise_for_status()
        correlate(store=tower.app.state.store, models=load_models())
    expected = journeys(calm.db_path)
    assert len(expected) == ORDERS

    # The crash: small correlator runs, killed while they are at it. A tick that is behind
    # keeps going, so the kill waits for the first runs to show in /metrics, not for a time.
    db = tmp_path / "crash.duckdb"
    env = {"TOWER_CORRELATE_EVERY": "1s", "TOWER_CORRELATE_BATCH": "300"}
    server = ProcessServer(db, env=env).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for start in range(0, len(events), 5000):
                http.post("/api/v1/events", json=events[start : start + 5000]).raise_for_status()
            deadline = time.monotonic() + 60
            while waiting(http) > len(events) * 3 // 4 and time.monotonic() < deadline:
                time.sleep(0.02)
        server.kill()
    finally:
        server.stop()
    with duckdb.connect(str(db), read_only=True) as con:
        stitched = con.execute(
            "SELECT value FROM correlator_state WHERE name = 'watermark'"
        ).fetchone()
    assert stitched is not None and stitched[0] < len(events), "killed too late to matter"

    restarted = ProcessServer(db, env=env).start()
    try:
        # The newest event is the last order's shipment: once it shows, every run is done.
        last = f"W-{ORDERS - 1}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            found = httpx.get(
                f"{restarted.url}/api/v1/journeys/search", params={"q": last}, timeout=10
            ).json()["items"]
            if found and found[0]["stage"] == "shipped":
                break
            time.sleep(0.5)
    finally:
        restarted.stop()
    assert journeys(db) == expected
