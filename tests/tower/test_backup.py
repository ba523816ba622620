"""Online backup through a running tower, and a tower started on the restored copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import httpx

from tests.factories import make_events
from tests.servers import ThreadServer
from tower.settings import Settings


def test_a_backup_taken_while_running_restores_every_event(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "live" / "tower.duckdb")
    with ThreadServer(settings) as tower, httpx.Client(base_url=tower.url, timeout=60) as http:
        assert http.post("/api/v1/events", json=make_events(250)).json()["accepted"] == 250
        command = [sys.executable, "-m", "tower", "backup", "--name", "before-upgrade"]
        made = subprocess.run(
            [*command, "--url", tower.url], capture_output=True, text=True, timeout=120
        )
        assert made.returncode == 0, made.stderr
        path = Path(made.stdout.strip())
        assert path == tmp_path / "live" / "backups" / "before-upgrade.duckdb"
        # Ingest goes on; the copy is the snapshot it was taken from.
        http.post("/api/v1/events", json=make_events(5, prefix="after"))
        listed = http.get("/api/v1/backups").json()
        assert [b["path"] for b in listed] == [str(path)]
        again = http.post("/api/v1/backups", json={"name": "before-upgrade"})
        assert again.status_code == 422 and "exists already" in again.json()["detail"]
        bad = http.post("/api/v1/backups", json={"name": "../../etc/passwd"})
        assert bad.status_code == 422

    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (250,)

    # Restore: a tower started on the copy has every event and goes on numbering after them.
    restored = Settings(db_path=path)
    with ThreadServer(restored) as tower, httpx.Client(base_url=tower.url) as http:
        assert http.get("/api/v1/health").json()["events"] == 250
        assert (
            http.post("/api/v1/events", json=make_events(1, prefix="new")).json()["accepted"] == 1
        )
