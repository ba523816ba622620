"""Checkpoints wait for ingest to go quiet, unless the WAL passes its hard limit.

A checkpoint blocks every commit while it runs, so one taken in the middle of a burst makes
every waiting request late. These tests hold a real tower's job to the policy.
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import orjson

from tests.factories import make_events
from tests.servers import ThreadServer
from tower.checkpoints import CheckpointPolicy, checkpoint_job
from tower.db import Store
from tower.settings import Settings

NDJSON = {"Content-Type": "application/x-ndjson"}
POLICY = CheckpointPolicy(wal_bytes=64, wal_max_bytes=1024, quiet_seconds=2.0)


def test_a_wal_over_the_soft_limit_waits_for_quiet() -> None:
    assert not POLICY.due(wal_bytes=100, idle_seconds=0.0)
    assert not POLICY.due(wal_bytes=100, idle_seconds=1.9)
    assert POLICY.due(wal_bytes=100, idle_seconds=2.0)


def test_a_wal_over_the_hard_limit_is_folded_even_while_busy() -> None:
    assert POLICY.due(wal_bytes=1024, idle_seconds=0.0)


def test_a_small_wal_is_left_alone_however_quiet() -> None:
    assert not POLICY.due(wal_bytes=63, idle_seconds=3600.0)


def _wal_while_posting(server: ThreadServer, seconds: float) -> list[int]:
    """WAL sizes seen after each batch of a steady stream of posts for `seconds`."""
    sizes = []
    deadline = time.monotonic() + seconds
    n = 0
    with httpx.Client(base_url=server.url, timeout=30) as http:
        while time.monotonic() < deadline:
            body = b"\n".join(orjson.dumps(e) for e in make_events(200, prefix=f"burst{n}"))
            assert http.post("/api/v1/events", content=body, headers=NDJSON).status_code == 200
            sizes.append(server.app.state.store.wal_bytes())
            n += 1
            time.sleep(0.05)
    return sizes


def test_the_tower_checkpoints_after_a_burst_not_during_it(tmp_path) -> None:
    settings = Settings(
        db_path=tmp_path / "q.duckdb",
        checkpoint_every=timedelta(seconds=0.2),
        checkpoint_wal_bytes=1,  # any WAL at all is over the soft limit
        checkpoint_quiet=timedelta(seconds=2),  # far longer than a post takes, even on CI
    )
    with ThreadServer(settings) as server:
        during = _wal_while_posting(server, seconds=3)
        # Folded: the other jobs (correlator, SLAs) keep adding a few hundred bytes after.
        folded = during[-1] // 10
        deadline = time.monotonic() + 10
        while server.app.state.store.wal_bytes() > folded and time.monotonic() < deadline:
            time.sleep(0.1)
        after = server.app.state.store.wal_bytes()

    # The WAL only grew during the burst (a checkpoint would have emptied it), and was
    # folded in within seconds of the burst ending.
    assert during == sorted(during) and during[-1] > during[0]
    assert after <= folded


def test_a_wal_past_the_hard_limit_is_folded_during_a_burst(tmp_path) -> None:
    settings = Settings(
        db_path=tmp_path / "h.duckdb",
        checkpoint_every=timedelta(seconds=0.2),
        checkpoint_wal_max_bytes=1,
        checkpoint_quiet=timedelta(hours=1),  # never quiet enough
    )
    with ThreadServer(settings) as server:
        during = _wal_while_posting(server, seconds=3)

    assert during != sorted(during)  # it shrank at least once while the posts went on


def test_a_checkpoint_during_another_write_transaction_waits_for_the_next_run(tmp_path) -> None:
    # The correlator's transaction updates its watermark; DuckDB refuses to checkpoint under
    # an open update. That is a reason to try again next second, not a failure to report.
    store = Store(tmp_path / "busy.duckdb")
    policy = CheckpointPolicy(wal_bytes=1, wal_max_bytes=1, quiet_seconds=0)
    try:
        with store.transaction(doing="test: first write") as con:
            con.execute("UPDATE correlator_state SET value = value + 1")
        with store.transaction(doing="test: a long write", lane="correlator") as con:
            con.execute("UPDATE correlator_state SET value = value + 1")
            checkpoint_job(store, policy, lambda: 60.0)  # no exception
            assert store.wal_bytes() > 0
        checkpoint_job(store, policy, lambda: 60.0)
        assert store.wal_bytes() == 0
    finally:
        store.close()
