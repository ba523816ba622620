"""`tower ingest` against a real server process: files in, summary and exit code out."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.factories import make_event, make_events
from tests.servers import ProcessServer


@pytest.fixture
def tower(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = ProcessServer(tmp_path / "cli.duckdb").start()
    yield server
    server.stop()


def run_ingest(url: str, *files: Path, batch_size: int = 5000) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tower",
            "ingest",
            "--url",
            url,
            "--batch-size",
            str(batch_size),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bad_line_is_named_and_the_rest_stored(tower: ProcessServer, tmp_path: Path) -> None:
    lines = [orjson.dumps(e).decode() for e in make_events(120, prefix="cli")]
    lines.insert(41, '{"event_id": "broken", "occurred_at": ')
    lines.insert(90, orjson.dumps(make_event(system="sap")).decode())
    path = tmp_path / "events.ndjson.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))

    result = run_ingest(tower.url, path, batch_size=50)

    assert result.returncode == 1, result.stderr
    assert f"{path}:42: not valid JSON" in result.stderr
    assert f"{path}:91: system: must be one of" in result.stderr
    assert "accepted" in result.stderr and "120" in result.stderr
    assert httpx.get(f"{tower.url}/api/v1/health").json()["events"] == 120


def test_a_clean_json_array_file_exits_zero_and_reingest_is_all_duplicates(
    tower: ProcessServer, tmp_path: Path
) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps(make_events(30, prefix="arr")))

    first = run_ingest(tower.url, path)
    again = run_ingest(tower.url, path)

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert "duplicates" in again.stderr and "30" in again.stderr
    assert httpx.get(f"{tower.url}/api/v1/health").json()["events"] == 30


def test_an_unreachable_tower_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "one.ndjson"
    path.write_bytes(orjson.dumps(make_event()))
    result = run_ingest("http://127.0.0.1:9", path)
    assert result.returncode == 2
    assert "could not send" in result.stderr


def test_a_pretty_printed_single_event_file_is_one_event(
    tower: ProcessServer, tmp_path: Path
) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(orjson.dumps(make_event(), option=orjson.OPT_INDENT_2))
    result = run_ingest(tower.url, path)
    assert result.returncode == 0, result.stderr
    assert httpx.get(f"{tower.url}/api/v1/health").json()["events"] == 1


def test_a_broken_json_array_file_is_named_and_exits_2(
    tower: ProcessServer, tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"event_id": "a"},')
    result = run_ingest(tower.url, path)
    assert result.returncode == 2
    assert "starts like a JSON array but is not JSON" in result.stderr
    assert "Traceback" not in result.stderr
