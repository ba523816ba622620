"""`tower demo` and `tower simulate` as a user runs them: real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import orjson

from tests.servers import ThreadServer, free_port, keyed_settings, wait_healthy
from tests.simulator.support import EVERY_FAULT, scenario_data, write_scenario
from tower.settings import Settings


def tower(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tower", *args], capture_output=True, text=True, timeout=timeout
    )


def test_simulate_backfills_a_running_tower(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path / "s.yaml", scenario_data(faults=EVERY_FAULT[:3]))
    truth = tmp_path / "truth.ndjson"
    with ThreadServer(Settings(db_path=tmp_path / "tower.duckdb")) as server:
        result = tower(
            "simulate", "--url", server.url, "--scenario", str(scenario), "--seed", "5",
            "--backfill-days", "0.25", "--no-live", "--ground-truth", str(truth),
        )  # fmt: skip
        stored = httpx.get(f"{server.url}/api/v1/health").json()["events"]

    assert result.returncode == 0, result.stderr
    assert "events sent" in result.stderr and "rejected" in result.stderr
    assert stored > 100
    header = orjson.loads(truth.read_bytes().splitlines()[0])
    assert header["seed"] == 5 and header["scenario"] == "test" and header["live"] is False


def test_simulate_sends_every_signal_with_the_api_key_it_is_given(tmp_path: Path) -> None:
    data = {**scenario_data(faults=EVERY_FAULT[:2]), "telemetry": {"spans": True, "logs": True,
            "queues": True}}  # fmt: skip
    scenario = write_scenario(tmp_path / "s.yaml", data)
    admin = "bootstrap-admin-key-for-simulate-0123456789"
    settings = keyed_settings(tmp_path / "tower.duckdb", admin)
    common = ("--scenario", str(scenario), "--backfill-days", "0.05", "--no-live",
              "--ground-truth", str(tmp_path / "t.ndjson"))  # fmt: skip
    with ThreadServer(settings) as server:
        made = httpx.post(
            f"{server.url}/api/v1/keys",
            json={"name": "simulator", "scopes": ["ingest"]},
            headers={"Authorization": f"Bearer {admin}"},
        )
        keyless = tower("simulate", "--url", server.url, *common)
        keyed = tower("simulate", "--url", server.url, "--api-key", made.json()["key"], *common)
        store = server.app.state.store
        stored = {
            table: store.scalar(f"SELECT count(*) FROM {table}", doing="test")
            for table in ("events", "spans", "log_records", "queue_samples")
        }

    assert keyless.returncode == 2 and "401" in keyless.stderr
    assert keyed.returncode == 0, keyed.stderr
    assert all(count > 0 for count in stored.values()), stored


def test_simulate_refuses_a_bad_scenario_with_file_and_reason(tmp_path: Path) -> None:
    bad = write_scenario(
        tmp_path / "bad.yaml",
        scenario_data(faults=[{"kind": "clock_skew", "facility": "DC-MARS", "offset": "5m"}]),
    )
    result = tower("simulate", "--scenario", str(bad), "--no-live")
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr and "unknown facility 'DC-MARS'" in result.stderr


def test_simulate_says_so_when_the_tower_is_unreachable(tmp_path: Path) -> None:
    result = tower(
        "simulate", "--url", "http://127.0.0.1:9", "--backfill-days", "0.05", "--no-live",
        "--ground-truth", str(tmp_path / "t.ndjson"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "could not send events" in result.stderr


def test_demo_starts_the_tower_and_the_simulator_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    scenario = write_scenario(tmp_path / "demo.yaml", scenario_data(faults=EVERY_FAULT[:2]))
    db = tmp_path / "demo.duckdb"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tower", "demo", "--db", str(db), "--port", str(port),
         "--scenario", str(scenario), "--backfill-days", "0.25", "--speed", "60"],
        stdout=log, stderr=subprocess.STDOUT,
        # As `make run` starts it: API keys required, the demo makes its own.
        env={**os.environ, "TOWER_LOG_LEVEL": "warning", "TOWER_AUTH_REQUIRED": "true"},
    )  # fmt: skip
    try:
        wait_healthy(url, process=process)
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/api/v1/health").json()["events"] < 100:
            assert time.monotonic() < deadline, "the simulator never fed the tower"
            time.sleep(0.2)
        keys = orjson.loads((tmp_path / "demo-keys.json").read_bytes())
        assert httpx.get(f"{url}/api/v1/events").status_code == 401
        read = httpx.get(f"{url}/api/v1/events", headers={"X-API-Key": keys["read"]})
        assert read.status_code == 200 and read.json()["items"]
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    output = (tmp_path / "demo.log").read_text()

    assert code == 0, output
    assert f"{url}/docs" in output and "Ctrl-C" in output
    assert "demo stopped" in output
    assert "demo-keys.json" in output and "TOWER_API_KEY=ctk_" in output
    with duckdb.connect(str(db), read_only=True) as con:  # closed cleanly: it opens, all there
        row = con.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None and row[0] >= 100
    truth = (tmp_path / "demo-ground-truth.ndjson").read_bytes().splitlines()
    assert orjson.loads(truth[-1])["record"] == "end"
