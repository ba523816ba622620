"""A tower killed with SIGKILL mid-ingest keeps every event it acknowledged, exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

from tests.factories import make_events
from tests.servers import ProcessServer

pytestmark = pytest.mark.slow


def test_every_acknowledged_event_survives_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    server = ProcessServer(db).start()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def feed(client_no: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            batch_no = 0
            while not stop.is_set():
                events = make_events(500, prefix=f"k{client_no}-{batch_no}")
                body = b"\n".join(orjson.dumps(e) for e in events)
                try:
                    response = http.post(
                        "/api/v1/events",
                        content=body,
                        headers={"Content-Type": "application/x-ndjson"},
                    )
                except httpx.TransportError:
                    return  # the server died under us: this batch was never acknowledged
                if response.status_code == 200:
                    with lock:
                        acked.extend(e["event_id"] for e in events)
                batch_no += 1

    feeders = [threading.Thread(target=feed, args=(n,)) for n in range(4)]
    for t in feeders:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 20_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # mid-stream: requests are in flight and commits are under way
    stop.set()
    for t in feeders:
        t.join(30)
    assert len(acked) >= 20_000, "too little was acknowledged before the kill to prove much"

    restarted = ProcessServer(db).start()  # WAL replay happens here
    try:
        health = httpx.get(f"{restarted.url}/api/v1/health").json()
        assert health["events"] >= len(acked)
    finally:
        restarted.stop()

    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT event_id, count(*) FROM events GROUP BY ALL").fetchall()
        gaps = con.execute("SELECT max(seq) - count(*) FROM events").fetchone()
    counts = dict(stored)
    missing = [event_id for event_id in acked if event_id not in counts]
    doubled = [event_id for event_id, n in counts.items() if n > 1]
    assert missing == [], f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert doubled == [], f"{len(doubled)} events stored twice"
    assert gaps == (0,), "ingest sequence has gaps after recovery"
