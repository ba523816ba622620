"""A full disk and a read-only file system: a clear error, nothing acknowledged is lost.

The database sits on a small tmpfs the test mounts (as root, as in CI); where mounting is not
allowed the tests skip and say so. Nothing is mocked: DuckDB meets the real ENOSPC and EROFS.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.factories import make_events
from tests.servers import ThreadServer, free_port
from tower.settings import Settings


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs at tmp_path/disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        mounted = _mount("-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk))
    except OSError as exc:
        pytest.skip(f"cannot run mount: {exc}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def settings_on(disk: Path) -> Settings:
    return Settings(
        db_path=disk / "tower.duckdb",
        correlate_every=timedelta(hours=1),
        checkpoint_wal_bytes=1024**3,  # keep everything in the WAL: the disk fills sooner
    )


def stored_ids(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT event_id FROM events").fetchall()]


def test_a_full_disk_answers_503_loses_nothing_acknowledged_and_recovers(
    small_disk: Path,
) -> None:
    acked: list[str] = []
    refused = None
    with (
        ThreadServer(settings_on(small_disk)) as tower,
        httpx.Client(base_url=tower.url, timeout=60) as http,
    ):
        for batch_no in range(400):
            events = make_events(1000, prefix=f"b{batch_no}", attributes={"pad": "x" * 2000})
            answer = http.post("/api/v1/events", json=events)
            if answer.status_code != 200:
                refused = answer
                break
            acked += [e["event_id"] for e in events]
        assert refused is not None, "the 24 MB disk never filled"
        assert refused.status_code == 503, refused.text
        assert "No space left on device" in refused.json()["detail"]
        assert refused.headers["retry-after"]
        assert http.get("/api/v1/health").status_code in (200, 503)  # still answering

        _mount("-o", "remount,size=256m", str(small_disk))  # the operator frees space
        after = make_events(10, prefix="after")
        assert http.post("/api/v1/events", json=after).json()["accepted"] == 10
        acked += [e["event_id"] for e in after]

    ids = stored_ids(small_disk / "tower.duckdb")
    assert len(ids) == len(set(ids)), "an event was stored twice"
    assert set(acked) <= set(ids), "an acknowledged event was lost"


def test_starting_on_a_read_only_file_system_fails_with_the_reason(small_disk: Path) -> None:
    # (A file system cannot turn read-only under a running tower: Linux refuses to remount
    # while the database is open for writing. A running tower meets a failing write as in
    # the full-disk test: 503 with the reason.)
    assert _mount("-o", "remount,ro", str(small_disk)).returncode == 0
    try:
        started = subprocess.run(
            [sys.executable, "-m", "tower", "serve", "--db", str(small_disk / "tower.duckdb"),
             "--port", str(free_port())],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        _mount("-o", "remount,rw", str(small_disk))
    assert started.returncode != 0
    assert str(small_disk / "tower.duckdb") in started.stderr
    assert "Read-only file system" in started.stderr
