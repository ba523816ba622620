"""SLA files fail at load with file, line and reason; `tower sla check` exits 1 on a breach."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from correlator.models import load_models
from sla.jobs import stages_of
from sla.models import load_slas
from tests.sla.support import T0, order, running_tower
from tower.yamlfile import ConfigFileError

STAGES = stages_of(load_models())


def test_the_shipped_definitions_load() -> None:
    definitions = load_slas(stages=STAGES)
    assert definitions.get("order_ship_priority").within == timedelta(hours=24)
    assert {s.name for s in definitions.slos} == {"events_ok", "inventory_sync_fast"}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            "slas:\n  - name: late\n    kind: stage_deadline\n    from_stage: accepted\n"
            "    to_stage: shiped\n    within: 24h\n",
            2,
            "order has no stage 'shiped'",
        ),
        (
            "slas:\n  - name: late\n    kind: stalled_in_stage\n    stage: allocated\n"
            "    no_progress_for: two hours\n",
            5,
            "'two hours' is not a duration",
        ),
        ("slas:\n  - name: x\n    kind: nonsense\n", 2, "does not match any of the expected tags"),
        (
            "slos:\n  - name: s\n    objective: 1.5\n    sli: {kind: events_ok}\n",
            3,
            "objective: Input should be less than 1",
        ),
    ],
)
def test_a_bad_file_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(text)
    with pytest.raises(ConfigFileError) as caught:
        load_slas(path, stages=STAGES)
    assert caught.value.line == line, caught.value
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}:")


def test_tower_sla_check_prints_breaches_and_exits_1(tmp_path: Path) -> None:
    with running_tower(tmp_path) as tower:
        tower.post(order("order.accepted", T0, "W-1"), order("order.allocated", T0, "W-1"))
    db = str(tmp_path / "tower.duckdb")

    def check(at: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tower", "sla", "check", "--db", db, "--at", at],
            capture_output=True,
            text=True,
            timeout=60,
            env={"COLUMNS": "200", "PATH": ""},
        )

    quiet = check((T0 + timedelta(hours=2) - timedelta(seconds=1)).isoformat())
    assert quiet.returncode == 0, quiet.stderr
    assert "0 breaches" in quiet.stderr
    loud = check((T0 + timedelta(hours=2, seconds=1)).isoformat())
    assert loud.returncode == 1, loud.stderr
    assert "orders_stalled_in_allocation" in loud.stdout
    assert "stalled in allocated at DC-EAST" in loud.stdout
    assert check("yesterday").returncode == 2
