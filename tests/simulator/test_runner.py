"""The runner against a real tower (uvicorn + DuckDB file): only the public API is used."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import orjson

from simulator import FileEventSink, HttpEventSink, SimulatorThread, items, run
from simulator.records import Emission
from tests.servers import ThreadServer
from tests.simulator.support import EVERY_FAULT, NOW, options_for, scenario_data
from tower.settings import Settings


def read_ndjson(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


def test_a_clean_day_is_stored_without_a_single_reject(tmp_path: Path) -> None:
    options = options_for(scenario_data(backfill="12h"), ground_truth=tmp_path / "truth.ndjson")
    expected = [i.event_id for i in items(options=options, now=NOW) if isinstance(i, Emission)]
    with ThreadServer(Settings(db_path=tmp_path / "tower.duckdb")) as server:
        with HttpEventSink(server.url) as sink:
            summary = run(options=options, sink=sink)
        health = httpx.get(f"{server.url}/api/v1/health").json()
        rejects = httpx.get(f"{server.url}/api/v1/rejects").json()["items"]

    assert summary.rejected == [] and rejects == []
    assert summary.sent == summary.accepted == len(expected) == health["events"] > 1000
    assert summary.duplicates == 0
    truth = read_ndjson(tmp_path / "truth.ndjson")
    assert truth[0]["record"] == "run" and truth[0]["scenario"] == "test"
    assert [line["record"] for line in truth[1:]] == ["end"]


def test_faults_reach_the_tower_and_the_ground_truth_file(tmp_path: Path) -> None:
    options = options_for(
        scenario_data(faults=EVERY_FAULT, backfill="12h"), ground_truth=tmp_path / "truth.ndjson"
    )
    with ThreadServer(Settings(db_path=tmp_path / "tower.duckdb")) as server:
        with HttpEventSink(server.url) as sink:
            summary = run(options=options, sink=sink)
        errors = httpx.get(
            f"{server.url}/api/v1/events", params={"system": "middleware", "limit": 1000}
        ).json()["items"]

    truth = read_ndjson(tmp_path / "truth.ndjson")
    faults = [line for line in truth if line["record"] == "fault"]
    assert summary.rejected == []
    assert len(faults) == summary.faults > 0
    assert {f["name"] for f in faults} >= {"west-down", "dupes", "lost", "erp-retried", "dlq"}
    # Each redelivery is the same event_id again, which the tower counts as a duplicate.
    assert summary.duplicates == sum(1 for f in faults if f["fault"] == "duplicate_delivery") > 0
    dead = [e for e in errors if e["status"] == "error"]
    assert dead and all("dead-lettered" in e["error"] for e in dead)
    assert truth[-1] == {"record": "end", "at": truth[-1]["at"], "faults": len(faults)}


def test_the_file_sink_writes_what_the_api_would_get(tmp_path: Path) -> None:
    options = options_for(scenario_data(faults=EVERY_FAULT, backfill="6h"))
    sink = FileEventSink(tmp_path / "events.ndjson")
    summary = run(options=options, sink=sink)
    sink.close()
    expected = [i.to_json() for i in items(options=options, now=NOW) if isinstance(i, Emission)]
    assert (tmp_path / "events.ndjson").read_bytes().splitlines() == expected
    assert summary.sent == len(expected)


def test_live_mode_paces_by_the_speed_factor_and_stops_when_asked(tmp_path: Path) -> None:
    # An hour of simulated time at 1800x is two seconds of wall time; stop after the first.
    options = dataclasses.replace(
        options_for(scenario_data(backfill="1h")), live=True, speed=1800.0, batch_size=100
    )
    with ThreadServer(Settings(db_path=tmp_path / "tower.duckdb")) as server:
        stop = threading.Event()
        simulator = SimulatorThread(url=server.url, options=options, should_stop=stop.is_set)
        simulator.start()
        deadline = time.monotonic() + 20
        while simulator.summary is None and time.monotonic() < deadline:
            live = httpx.get(
                f"{server.url}/api/v1/events",
                params={"since": (NOW + timedelta(seconds=1)).isoformat(), "limit": 1},
            ).json()["items"]
            if live:
                break
            time.sleep(0.1)
        stop.set()
        simulator.join(10)

    assert not simulator.is_alive()
    assert simulator.error is None and simulator.summary is not None
    summary = simulator.summary
    assert summary.backfill_events > 0
    assert summary.sent > summary.backfill_events  # it went on past "now" ...
    assert summary.last_at is not None and summary.last_at < NOW + timedelta(
        hours=1
    )  # ... not to the end
