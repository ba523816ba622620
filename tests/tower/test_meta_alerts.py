"""Meta-alerts: each `kind: tower` check fires and resolves through the same alert pipeline."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.models import AlertingConfig
from sla.models import load_slas
from tests.factories import make_events
from tests.sla.support import T0, Receiver, Tower, running_tower
from tower.selfobs import JobTracker
from tower.yamlfile import ConfigFileError

SLAS = """
slas:
  - {name: tower_correlator_lag, kind: tower, check: correlator_lag, max_lag: 5m,
     severity: critical}
  - {name: tower_job_stale, kind: tower, check: job_stale, missed_intervals: 3, grace: 1m,
     jobs: [nightly]}
  - {name: tower_receiver_failing, kind: tower, check: receiver_failing, window: 15m}
  - {name: tower_reject_rate, kind: tower, check: reject_rate, window: 15m, max_ratio: 0.2,
     min_items: 10}
"""
S = timedelta(seconds=1)


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Tower]:
    with running_tower(tmp_path, SLAS) as running:
        yield running


def tracker(tower: Tower) -> JobTracker:
    """Job records on the tower's store at the test's clock (the app's own use the wall clock)."""
    return JobTracker(store=tower.store, clock=lambda: tower.now)


def alert(tower: Tower, name: str) -> dict[str, Any]:
    [found] = tower.http.get("/api/v1/alerts", params={"alertname": name}).json()["items"]
    return found


def webhook(url: str) -> AlertingConfig:
    return AlertingConfig.model_validate(
        {
            "route": {"receiver": "oncall", "group_by": ["alertname"], "group_wait": "0s"},
            "receivers": [{"name": "oncall", "webhook_configs": [{"url": url}]}],
            "delivery": {"first_retry": "10s"},
        }
    )


def test_correlator_lag_fires_past_the_threshold_and_resolves_once_stitched(
    tower: Tower,
) -> None:
    tower.http.post("/api/v1/events", json=make_events(3, prefix="lag"))  # not correlated

    assert "tower_correlator_lag" not in tower.cycle(T0 + timedelta(minutes=5)).firing
    assert "tower_correlator_lag" in tower.cycle(T0 + timedelta(minutes=5) + S).firing
    firing = alert(tower, "tower_correlator_lag")
    assert firing["labels"] == {
        "alertname": "tower_correlator_lag",
        "check": "correlator_lag",
        "part": "correlator",
        "severity": "critical",
        "sla_kind": "tower",
    }
    assert firing["summary"] == ("the correlator is 5m 1s behind: 3 events waiting (limit 5m)")

    tower.post()  # the correlator runs and catches up
    assert "tower_correlator_lag" not in tower.cycle(T0 + timedelta(minutes=6)).firing
    assert alert(tower, "tower_correlator_lag")["state"] == "resolved"


def test_a_job_without_success_for_n_intervals_fires_and_resolves_when_it_succeeds(
    tower: Tower,
) -> None:
    jobs = tracker(tower)
    jobs.register("nightly", every=timedelta(seconds=10))  # registered at T0, never run

    assert "tower_job_stale" not in tower.cycle(T0 + timedelta(seconds=60)).firing  # grace 1m
    assert "tower_job_stale" in tower.cycle(T0 + timedelta(seconds=61)).firing
    firing = alert(tower, "tower_job_stale")
    assert firing["labels"]["job"] == "nightly"
    assert firing["summary"] == "job nightly has not succeeded for 1m 1s (6 intervals of 10s)"

    tower.now = T0 + timedelta(seconds=62)
    jobs.run("nightly", lambda: None)
    assert "tower_job_stale" not in tower.cycle(T0 + timedelta(seconds=63)).firing
    assert alert(tower, "tower_job_stale")["state"] == "resolved"


def test_a_failing_receiver_fires_and_resolves_once_it_accepts_again(tower: Tower) -> None:
    with Receiver() as receiver:
        config = webhook(receiver.url)
        receiver.fail_next = 1000  # down
        tracker(tower).register("nightly", every=timedelta(seconds=10))
        report = tower.cycle(T0 + timedelta(minutes=2), config)  # the stale job's alert is sent
        assert report.failed_attempts == 1
        assert "tower_receiver_failing" not in report.firing

        report = tower.cycle(T0 + timedelta(minutes=2) + S, config)
        assert "tower_receiver_failing" in report.firing
        firing = alert(tower, "tower_receiver_failing")
        assert firing["labels"]["receiver"] == "oncall/webhook"
        assert "1 of 1 attempts in 15m failed" in firing["summary"]

        receiver.fail_next = 0  # back up: the retries get through
        assert tower.cycle(T0 + timedelta(minutes=3), config).delivered >= 1
        report = tower.cycle(T0 + timedelta(minutes=3) + S, config)
        assert "tower_receiver_failing" not in report.firing
        assert alert(tower, "tower_receiver_failing")["state"] == "resolved"
        assert any(
            a["labels"]["alertname"] == "tower_receiver_failing"
            for body in receiver.bodies
            for a in body["alerts"]
        )


def test_a_reject_rate_spike_fires_and_resolves_when_the_window_passes(tower: Tower) -> None:
    answer = tower.http.post(
        "/api/v1/events", json=[*make_events(8, prefix="rr"), *[{"bad": n} for n in range(4)]]
    ).json()
    assert len(answer["rejected"]) == 4

    report = tower.cycle(T0 + timedelta(minutes=1))
    assert "tower_reject_rate" in report.firing
    assert alert(tower, "tower_reject_rate")["summary"].startswith(
        "33.3% of 12 items in 15m were rejected (limit 20.0%)"
    )
    assert "tower_reject_rate" not in tower.cycle(T0 + timedelta(minutes=15, seconds=1)).firing
    assert alert(tower, "tower_reject_rate")["state"] == "resolved"


def test_disk_nearly_full_fires_while_space_is_taken_and_resolves_when_freed(
    tmp_path: Path,
) -> None:
    # The floor sits 1 GiB under today's free space; taking 2 GiB crosses it (fallocate: instant,
    # nothing written) whatever else the machine is doing, within a 1 GiB margin.
    floor = shutil.disk_usage(tmp_path).free - 2**30
    slas = f"""
slas:
  - {{name: tower_disk_full, kind: tower, check: disk_full, min_free_ratio: 0,
     min_free_bytes: {floor}}}
"""
    with running_tower(tmp_path, slas) as tower:
        assert "tower_disk_full" not in tower.cycle(T0).firing
        ballast = tmp_path / "ballast"
        with ballast.open("wb") as file:
            os.posix_fallocate(file.fileno(), 0, 2 * 2**30)
        try:
            assert "tower_disk_full" in tower.cycle(T0 + S).firing
            assert "GiB" in alert(tower, "tower_disk_full")["summary"]
        finally:
            ballast.unlink()
        assert "tower_disk_full" not in tower.cycle(T0 + 2 * S).firing
        assert alert(tower, "tower_disk_full")["state"] == "resolved"


def test_a_field_of_another_check_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "slas.yaml"
    bad.write_text(
        "slas:\n  - name: lag\n    kind: tower\n    check: correlator_lag\n    window: 5m\n"
    )
    with pytest.raises(ConfigFileError) as caught:
        load_slas(bad)
    assert "window do not apply to check correlator_lag" in str(caught.value)
    assert caught.value.line == 2


def test_the_shipped_defaults_watch_the_tower() -> None:
    shipped = load_slas()
    checks = {s.check for s in shipped.slas if s.kind == "tower"}
    assert checks == {"correlator_lag", "job_stale", "receiver_failing", "reject_rate", "disk_full"}
