"""Offered three times what the writer can take, the tower pushes back and stays bounded.

Eight clients post 2,500-event batches as fast as they can against a writer queue that takes
a third of that: the tower
answers 429 with Retry-After instead of buffering, each client waits as told and sends again,
every event ends up stored exactly once, and the server's peak memory stays bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

from tests.factories import make_events
from tests.servers import ProcessServer

pytestmark = pytest.mark.slow

CLIENTS = 8
BATCHES = 6
BATCH = 2500
QUEUE = CLIENTS * BATCH // 3  # in flight at once: three times what the queue takes
PEAK_MEMORY_CEILING = 1536 * 1024**2  # bytes; measured peaks are in the closing notes


def peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process has ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def test_overload_gets_429_with_retry_after_and_every_event_lands_once(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    db = tmp_path / "overload.duckdb"
    server = ProcessServer(
        db, env={"TOWER_WRITER_QUEUE_MAX_EVENTS": str(QUEUE), "TOWER_CORRELATE_EVERY": "1h"}
    ).start()
    busy: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            for batch in range(BATCHES):
                body = b"\n".join(
                    orjson.dumps(e) for e in make_events(BATCH, prefix=f"c{number}-{batch}")
                )
                while True:
                    answer = http.post(
                        "/api/v1/events",
                        content=body,
                        headers={"Content-Type": "application/x-ndjson"},
                    )
                    if answer.status_code in (429, 503):
                        with lock:
                            busy.append(answer.headers.get("retry-after", "missing"))
                        time.sleep(float(answer.headers.get("retry-after", "1")))
                        continue
                    if answer.status_code != 200 or answer.json()["accepted"] != BATCH:
                        with lock:
                            failures.append(f"{answer.status_code}: {answer.text[:200]}")
                    break

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert server.process is not None
        peak = peak_rss(server.process.pid)
    finally:
        server.stop()

    assert failures == []
    assert busy, "the tower never pushed back"
    assert "missing" not in busy, "a 429/503 came without Retry-After"
    assert peak < PEAK_MEMORY_CEILING, f"peak memory {peak / 1024**2:.0f} MiB"
    with duckdb.connect(str(db), read_only=True) as con:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events"
        ).fetchone() or (0, 0)
    assert (total, distinct) == (CLIENTS * BATCHES * BATCH,) * 2
    record_property("pushbacks", len(busy))
    record_property("peak_rss_mib", round(peak / 1024**2))
