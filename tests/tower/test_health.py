"""GET /api/v1/health and `tower status`: each part with its lag; 503 when one is failing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.factories import make_events
from tests.servers import ThreadServer
from tower.cli import app as cli
from tower.selfobs import JobTracker
from tower.settings import Settings

WIDE = {"COLUMNS": "240"}  # rich folds table cells to the terminal width


@dataclass
class Running:
    """The server at a clock the test sets, starting at the wall clock's now.

    Scheduled jobs are recorded on the wall clock (APScheduler's), so the test's clock starts
    there too and only moves forward.
    """

    server: ThreadServer
    http: httpx.Client
    t0: datetime
    now: datetime

    def health(self, at: datetime) -> tuple[int, dict[str, Any]]:
        self.now = at
        answer = self.http.get("/api/v1/health")
        return answer.status_code, answer.json()

    def run_job(self, job_id: str) -> None:
        """Run a scheduled job now, as the scheduler would (through its recording wrapper)."""
        job = self.server.app.state.scheduler.get_job(job_id)
        job.func(*job.args, **job.kwargs)


def part(health: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [p for p in health["parts"] if p["name"] == name]
    return found


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Running]:
    settings = Settings(
        db_path=tmp_path / "tower.duckdb",
        # The scheduler's first runs are far off: the test runs the jobs it wants, at its clock.
        correlate_every=timedelta(seconds=30),
        sla_every=timedelta(hours=1),
        health_correlator_max_lag=timedelta(minutes=5),
        health_job_missed_intervals=3,
        health_job_grace=timedelta(minutes=10),
    )
    t0 = datetime.now(UTC).replace(microsecond=0)
    holder: dict[str, Running] = {}
    with ThreadServer(settings, clock=lambda: holder["t"].now if holder else t0) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            holder["t"] = Running(server, http, t0, t0)
            yield holder["t"]


def test_health_is_503_once_a_stopped_correlator_lags_past_the_threshold(tower: Running) -> None:
    tower.server.app.state.scheduler.pause_job("correlate")  # the correlator job is stopped
    assert tower.http.post("/api/v1/events", json=make_events(4)).json()["accepted"] == 4

    code, health = tower.health(tower.t0 + timedelta(minutes=4, seconds=59))
    assert code == 200, health
    assert health["status"] == "ok"
    correlator = part(health, "correlator")
    assert correlator["status"] == "ok"
    assert correlator["lag_seconds"] == 299
    assert correlator["detail"]["events_waiting"] == 4

    code, health = tower.health(tower.t0 + timedelta(minutes=5, seconds=1))
    assert code == 503
    assert health["status"] == "failing: correlator"
    correlator = part(health, "correlator")
    assert correlator["status"] == "failing"
    assert correlator["lag_seconds"] == 301
    assert correlator["reason"] == "4 events waiting, the oldest for 301 s (limit 300 s)"
    assert part(health, "writer")["status"] == "ok"
    assert part(health, "job:correlate")["status"] == "ok"  # within its 10 min grace still

    # Ten minutes without a run: the job itself is failing too, three intervals long gone.
    code, health = tower.health(tower.t0 + timedelta(minutes=10, seconds=5))
    assert code == 503
    job = part(health, "job:correlate")
    assert job["status"] == "failing"
    assert job["last_success"] is None
    assert job["reason"].startswith("never succeeded for 60")  # 10 min, since it was scheduled
    assert "intervals of 30 s" in job["reason"]
    # (the other jobs, which never ran in these few real seconds, are failing by now as well)
    assert health["status"].startswith("failing: correlator, ")
    assert "job:correlate" in health["status"]

    # The job runs again: caught up, its success recorded (on the wall clock, as it ran).
    tower.run_job("correlate")
    code, health = tower.health(tower.t0 + timedelta(minutes=10, seconds=6))
    assert part(health, "correlator")["lag_seconds"] == 0
    code, health = tower.health(tower.t0 + timedelta(minutes=1))  # back near the job's own run
    assert code == 200, health
    job = part(health, "job:correlate")
    assert job["status"] == "ok"
    assert job["last_success"] is not None
    assert job["detail"]["runs"] == 1


def test_health_lists_every_part_with_storage_figures(tower: Running) -> None:
    code, health = tower.health(tower.t0)
    assert code == 200
    names = [p["name"] for p in health["parts"]]
    assert names[:2] == ["writer", "correlator"]
    assert {"job:correlate", "job:checkpoint", "job:sla_alerts", "job:selfobs_sample"} <= set(names)
    assert names[-1] == "storage"
    storage = part(health, "storage")["detail"]
    assert storage["db_bytes"] > 0
    assert 0 < storage["disk_free_ratio"] <= 1


def test_a_failing_job_is_recorded_with_its_error(tower: Running) -> None:
    tracker = JobTracker(store=tower.server.app.state.store, clock=lambda: tower.now)
    tracker.register("nightly", every=timedelta(minutes=1))

    def broken() -> None:
        raise RuntimeError("the export share is gone")

    tower.now = tower.t0 + timedelta(minutes=1)
    tracker.run("nightly", broken)
    code, health = tower.health(tower.t0 + timedelta(minutes=11))
    assert code == 503
    job = part(health, "job:nightly")
    assert job["detail"]["failures"] == 1
    assert job["reason"] == (
        "never succeeded for 660 s (11 intervals of 60 s); last error: "
        "RuntimeError: the export share is gone"
    )


def test_tower_status_prints_the_parts_and_exits_1_when_failing(tower: Running) -> None:
    tower.server.app.state.scheduler.pause_job("correlate")
    tower.http.post("/api/v1/events", json=make_events(2, prefix="status"))
    runner = CliRunner()

    tower.now = tower.t0 + timedelta(minutes=1)
    result = runner.invoke(cli, ["status", "--url", tower.server.url], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "correlator" in result.stdout
    assert "job:correlate" in result.stdout

    tower.now = tower.t0 + timedelta(minutes=6)
    result = runner.invoke(cli, ["status", "--url", tower.server.url], env=WIDE)
    assert result.exit_code == 1, result.output
    assert "2 events waiting, the oldest for 360 s (limit 300 s)" in result.stdout
    assert "failing" in result.stdout

    result = runner.invoke(cli, ["status", "--url", tower.server.url, "--json"])
    assert result.exit_code == 1
    assert '"failing: correlator"' in result.stdout


def test_tower_status_exits_2_when_nothing_answers() -> None:
    result = CliRunner().invoke(cli, ["status", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
