"""Scenario files: the shipped ones load, a bad one fails with its file, line and reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from simulator import ConfigFileError, load_scenario, shipped_scenario
from simulator.scenario import format_duration, parse_duration
from tests.simulator.support import EVERY_FAULT, scenario_data, write_scenario


@pytest.mark.parametrize("name", ["default", "clean", "peak"])
def test_the_shipped_scenarios_load(name: str) -> None:
    scenario = load_scenario(shipped_scenario(name))
    assert scenario.name == name


def test_the_default_scenario_has_faults_in_history_and_live() -> None:
    scenario = load_scenario(shipped_scenario("default"))
    starts = [f.start for f in scenario.faults if f.start is not None]
    assert any(s < timedelta(0) for s in starts) and any(s > timedelta(0) for s in starts)
    assert len({f.kind for f in scenario.faults}) == 10  # every kind the simulator knows


def test_every_fault_kind_validates(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "all.yaml", scenario_data(faults=EVERY_FAULT))
    scenario = load_scenario(path)
    assert [f.label for f in scenario.faults] == [f["name"] for f in EVERY_FAULT]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"kind": "warehouse_outage", "facility": "DC-NORTH", "start": "-1h", "duration": "1h"},
         "unknown facility 'DC-NORTH'"),
        ({"kind": "lost_message", "rate": 0.1, "types": ["order.pickd"]},
         "unknown event type 'order.pickd'"),
        ({"kind": "queue_backlog", "queue": "orders.oms-to-erp", "start": "-1h",
          "duration": "soon"}, "not a duration: 'soon'"),
        ({"kind": "duplicate_delivery", "rate": 1.5}, "less than or equal to 1"),
        ({"kind": "meteor_strike"}, "does not match any of the expected tags"),
        ({"kind": "clock_skew", "facility": "DC-EU"}, "offset: Field required"),
    ],
)  # fmt: skip
def test_a_bad_scenario_names_the_file_the_line_and_the_reason(
    tmp_path: Path, fault: dict[str, object], reason: str
) -> None:
    path = write_scenario(tmp_path / "bad.yaml", scenario_data(faults=[fault]))
    with pytest.raises(ConfigFileError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert caught.value.line is not None and caught.value.line > 1
    assert reason in message


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nfaults: [\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"broken\.yaml:\d+: not valid YAML"):
        load_scenario(broken)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("-6h", timedelta(hours=-6)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("45s", timedelta(seconds=45)),
        (30, timedelta(seconds=30)),
    ],
)
def test_durations_read_and_write_the_same_way(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected
