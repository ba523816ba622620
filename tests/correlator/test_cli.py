"""`tower trace` against a live tower whose own scheduler correlates; `tower correlate` offline."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx

from tests.factories import make_event
from tests.servers import ProcessServer, ThreadServer
from tower.settings import Settings

ORDER = [
    make_event(
        type="order.received",
        system="oms",
        occurred_at="2026-11-23T08:00:00Z",
        keys={"oms_order": "W-1001"},
        attributes={"customer": "ACME", "value": 1820.5, "currency": "USD"},
    ),
    make_event(
        type="order.accepted",
        system="erp",
        occurred_at="2026-11-23T08:20:00Z",
        keys={"oms_order": "W-1001", "erp_sales_order": "4500012"},
    ),
    make_event(
        type="order.allocated",
        system="erp",
        occurred_at="2026-11-23T09:00:00Z",
        keys={"erp_sales_order": "4500012"},
        status="error",
        error="ATP check failed: SKU-1 short by 2",
    ),
]


def tower(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tower", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "160", "PATH": "/usr/bin"},
    )


def test_trace_prints_the_timeline_the_scheduler_stitched(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "live.duckdb", env={"TOWER_CORRELATE_EVERY": "PT0.2S"})
    server.start()
    try:
        httpx.post(f"{server.url}/api/v1/events", json=ORDER).raise_for_status()
        deadline = time.monotonic() + 20
        while not httpx.get(f"{server.url}/api/v1/journeys/search", params={"q": "4500012"}).json()[
            "items"
        ]:
            assert time.monotonic() < deadline, "the scheduled correlator never stitched"
            time.sleep(0.1)

        result = tower("trace", "4500012", "--url", server.url)

        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "oms_order:W-1001" in out and "stalled" in out  # 2026-11-23 08:20 + 4 h < now
        assert "oms -> erp" in out and "20m" in out  # the hop and its latency
        assert "ATP check failed" in out
        missing = tower("trace", "NO-SUCH-ID", "--url", server.url)
        assert missing.returncode == 1
        assert "no journey found" in missing.stderr
    finally:
        server.stop()


def test_correlate_backfills_a_stopped_tower(tmp_path: Path) -> None:
    db = tmp_path / "offline.duckdb"
    settings = Settings(db_path=db, correlate_every="PT1H")  # type: ignore[arg-type]
    with ThreadServer(settings) as server:
        httpx.post(f"{server.url}/api/v1/events", json=ORDER).raise_for_status()

    result = tower("correlate", "--db", str(db))

    assert result.returncode == 0, result.stderr
    assert "stitched 3 events" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT label, stage FROM journeys").fetchall() == [
            ("oms_order:W-1001", "accepted")
        ]
    again = tower("correlate", "--db", str(db))
    assert "stitched 0 events" in again.stderr
