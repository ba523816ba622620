"""Stall SLAs that count a facility's working hours only (`calendars:` and `count:`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from correlator.models import load_models
from simulator.estate import default_estate
from simulator.records import Emission
from simulator.runner import RunOptions, items
from simulator.scenario import load_scenario, shipped_scenario
from sla.calendars import Calendar, cutoff, working_time
from sla.jobs import stages_of
from sla.models import load_slas
from sla.rules import Breach
from tests.sla.support import Tower, order, running_tower
from tower.yamlfile import ConfigFileError

S = timedelta(seconds=1)
H = timedelta(hours=1)
STAGES = stages_of(load_models())
OFFICE = Calendar(zone="Europe/Amsterdam", hours={"mon-fri": "09:00-17:00"})


def at(text: str, zone: str = "UTC") -> datetime:
    """A local wall time in `zone`, as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def stalled(tower: Tower, when: datetime) -> dict[str, Breach]:
    found = tower.evaluate(when).breaches
    return {b.labels["facility"]: b for b in found if b.name == "orders_stalled_in_allocation"}


# -- the shipped definitions on a real tower -----------------------------------------------------


def test_an_order_allocated_before_the_shift_ends_stalls_only_in_the_next_shift(
    tmp_path: Path,
) -> None:
    # DC-EAST works 05:00-23:00 New York time (sla/defaults.yaml, like the simulated site);
    # DC-NORTH has no calendar: every hour counts, as before calendars.
    allocated = at("2026-11-16T22:00", "America/New_York")  # an hour before the shift ends
    with running_tower(tmp_path) as tower:
        tower.now = allocated
        for order_id, facility in (("E-1", "DC-EAST"), ("N-1", "DC-NORTH")):
            tower.post(
                order(
                    "order.accepted",
                    allocated - H,
                    order_id,
                    facility=facility,
                    value=900.0,
                    currency="USD",
                ),
                order("order.allocated", allocated, order_id, facility=facility),
            )

        assert "DC-NORTH" not in stalled(tower, allocated + 2 * H - S)
        assert set(stalled(tower, allocated + 2 * H + S)) == {"DC-NORTH"}
        # 3h of wall clock overnight: one working hour gone, not stalled
        assert "DC-EAST" not in stalled(tower, allocated + 3 * H)
        assert "DC-EAST" not in stalled(tower, at("2026-11-17T05:59:59", "America/New_York"))
        # an hour into the next shift: the second working hour is over
        east = stalled(tower, at("2026-11-17T06:00:01", "America/New_York"))["DC-EAST"]
        assert east.summary.startswith(
            "1 orders worth $900 stalled in allocated at DC-EAST for > 2h of working hours"
        )
        assert east.sample == ["oms_order:E-1"]


def test_stage_deadlines_can_count_working_hours_too(tmp_path: Path) -> None:
    sla_yaml = """
calendars:
  DC-EU: {zone: Europe/Amsterdam, hours: {mon-fri: "09:00-17:00"}}
slas:
  - name: picked_in_a_working_day
    kind: stage_deadline
    from_stage: allocated
    to_stage: picked
    within: 8h
    count: working_hours
"""
    friday = at("2026-11-20T13:00", "Europe/Amsterdam")
    with running_tower(tmp_path, sla_yaml) as tower:
        tower.now = friday
        tower.post(
            order("order.accepted", friday - H, "EU-1", facility="DC-EU"),
            order("order.allocated", friday, "EU-1", facility="DC-EU"),
        )
        monday_noon = at("2026-11-23T12:59:59", "Europe/Amsterdam")  # 4h Friday + 4h Monday
        assert tower.evaluate(monday_noon).breaches == []
        [late] = tower.evaluate(monday_noon + 2 * S).breaches
        assert "within 8h of working hours at DC-EU" in late.summary


# -- loading ---------------------------------------------------------------------------------------

GOOD_SLA = "slas:\n  - {name: s, kind: stalled_in_stage, stage: allocated, no_progress_for: 2h}\n"


@pytest.mark.parametrize(
    ("calendars", "line", "reason"),
    [
        (
            "  DC-EU: {zone: Europe/Amstredam, hours: {daily: 06:00-22:00}}\n",
            2,
            "unknown time zone",
        ),
        ("  DC-EU:\n    zone: UTC\n    hours:\n      mon-fryday: 06:00-22:00\n", 5, "not a day"),
        (
            "  DC-EU:\n    zone: UTC\n    hours:\n      daily: [06:00-22:00, 6-10]\n",
            5,
            "not an hour",
        ),
        ("  DC-EU:\n    zone: UTC\n    hours:\n      mon: 06:00-24:30\n", 5, "00:00 to 24:00"),
        (
            "  DC-EU:\n    zone: UTC\n    hours:\n      mon: 06:00-22:00\n"
            "      mon-fri: 08:00-09:00\n",
            5,
            "mon is named twice",
        ),
        (
            "  DC-EU:\n    zone: UTC\n    hours:\n      sun: 22:00-06:00\n      mon: 05:00-12:00\n",
            5,
            "overlap around mon 05:00",
        ),
        ("  DC-EU:\n    zone: UTC\n    hours: {}\n", 4, "at least 1 item"),
    ],
)
def test_a_bad_calendar_fails_at_load_with_file_line_and_reason(
    tmp_path: Path, calendars: str, line: int, reason: str
) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text("calendars:\n" + calendars + GOOD_SLA)
    with pytest.raises(ConfigFileError) as caught:
        load_slas(path, stages=STAGES)
    assert str(caught.value).startswith(f"{path}:{line}:"), caught.value
    assert reason in str(caught.value)


def test_working_hours_without_any_calendar_or_with_a_bad_count_fail_at_load(
    tmp_path: Path,
) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(
        "slas:\n  - name: s\n    kind: stalled_in_stage\n    stage: allocated\n"
        "    no_progress_for: 2h\n    count: working_hours\n"
    )
    with pytest.raises(ConfigFileError) as caught:
        load_slas(path, stages=STAGES)
    assert str(caught.value).startswith(f"{path}:6: slas.0.count: s counts working hours")
    assert "no `calendars:`" in str(caught.value)

    path.write_text(path.read_text().replace("working_hours", "office_hours"))
    with pytest.raises(ConfigFileError) as caught:
        load_slas(path, stages=STAGES)
    assert str(caught.value).startswith(f"{path}:6: slas.0.count:")


# -- the cutoff: the latest start that has waited the working time by now -----------------------


def test_a_threshold_spanning_several_days_skips_nights_and_the_weekend() -> None:
    wednesday = at("2026-11-25T10:00", "Europe/Amsterdam")
    # Wednesday 1h, Tuesday 8h, Monday 8h, then 3h of Friday's 8h
    expected = at("2026-11-20T14:00", "Europe/Amsterdam")
    assert cutoff(OFFICE, wednesday, 20 * H) == expected
    assert working_time(OFFICE, expected, wednesday) == 20 * H
    assert working_time(OFFICE, expected + S, wednesday) == 20 * H - S


def test_weekend_days_off_count_nothing() -> None:
    monday = at("2026-11-23T09:30", "Europe/Amsterdam")
    assert cutoff(OFFICE, monday, H) == at("2026-11-20T16:30", "Europe/Amsterdam")
    saturday = at("2026-11-21T12:00", "Europe/Amsterdam")
    assert cutoff(OFFICE, saturday, H) == at("2026-11-20T16:00", "Europe/Amsterdam")
    assert working_time(OFFICE, at("2026-11-20T17:00", "Europe/Amsterdam"), monday) == H / 2


def test_a_24h_shift_counts_like_the_wall_clock_even_over_a_dst_change() -> None:
    always = Calendar(zone="America/New_York", hours={"daily": "00:00-24:00"})
    now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # the day after New York left DST
    for hours in (0.5, 2, 30, 24 * 9):
        assert cutoff(always, now, hours * H) == now - hours * H
    assert cutoff(always, now, timedelta(0)) == now


def test_local_hours_follow_the_zone_across_dst() -> None:
    night = Calendar(zone="America/New_York", hours={"daily": "22:00-06:00"})
    # The night DST ended (1 Nov 2026, 02:00 back to 01:00) lasts 9 hours, not 8.
    morning = at("2026-11-01T06:00", "America/New_York")
    assert morning == datetime(2026, 11, 1, 11, 0, tzinfo=UTC)
    assert cutoff(night, morning, 9 * H) == datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 22:00 EDT
    assert working_time(night, morning - 24 * H, morning) == 9 * H
    # Amsterdam's 06:00 opening is 04:00 UTC in summer and 05:00 UTC in winter.
    early = Calendar(zone="Europe/Amsterdam", hours={"daily": "06:00-24:00"})
    july = datetime(2026, 7, 1, 4, 30, tzinfo=UTC)
    january = datetime(2026, 1, 7, 4, 30, tzinfo=UTC)
    assert cutoff(early, july, H / 2) == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    assert cutoff(early, january, H / 2) == datetime(2026, 1, 6, 22, 30, tzinfo=UTC)


def test_several_ranges_a_day_and_a_night_shift_into_the_weekend() -> None:
    split = Calendar(
        zone="UTC", hours={"mon-thu": ["08:00-12:00", "13:00-17:00"], "fri": "22:00-02:00"}
    )
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    # Friday night into Saturday: 4h; then Thursday afternoon and morning
    assert cutoff(split, sunday, 4 * H) == datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
    assert cutoff(split, sunday, 6 * H) == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
    assert cutoff(split, sunday, 9 * H) == datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


# -- the shipped calendars and the demo estate they describe --------------------------------------


def test_the_shipped_calendars_are_the_demo_warehouses_shifts() -> None:
    calendars = load_slas(stages=STAGES).calendars
    for warehouse in default_estate().warehouses:
        opens, closes = warehouse.shift
        expected = Calendar(zone=warehouse.tz, hours={"daily": f"{opens:02d}:00-{closes:02d}:00"})
        assert calendars[warehouse.code].weekly == expected.weekly, warehouse.code
        assert calendars[warehouse.code].zone == warehouse.tz


def test_two_clean_demo_days_never_stall_an_order_or_drift_a_position() -> None:
    """With no fault injected, no order waits more than 2 working hours to be picked (the
    night's backlog is picked first come, first served) and no stock change overtakes an
    earlier one of the same SKU on any interface (which would leave a system on an old
    position: drift)."""
    scenario = load_scenario(shipped_scenario("default")).model_copy(update={"faults": []})
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    options = RunOptions.from_scenario(scenario, backfill_days=2, live=False, now=now)
    calendars = load_slas(stages=STAGES).calendars
    allocated: dict[str, tuple[str, datetime]] = {}
    waits: list[timedelta] = []
    positions: dict[tuple[str, str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for item in items(options=options, now=now, telemetry=False, queues=False):
        if not isinstance(item, Emission):
            continue
        event, attributes = item.event, item.event.get("attributes", {})
        if event["type"] == "order.allocated":
            allocated[event["keys"]["wms_order"]] = (event["facility"], item.occurred_at)
        elif event["type"] == "order.picked" and event["keys"]["wms_order"] in allocated:
            facility, since = allocated[event["keys"]["wms_order"]]
            waits.append(working_time(calendars[facility], since, item.occurred_at))
        if event["object_type"] == "inventory" and "reason" in attributes:
            key = (attributes["facility"], attributes["sku"], event["source"])
            positions[key].append((item.occurred_at, event["keys"]["inventory_change"]))
    assert len(waits) > 500
    assert max(waits) <= 2 * H
    assert len(positions) > 100
    for key, hops in positions.items():
        in_time = [change for _, change in sorted(hops)]
        assert in_time == sorted(in_time), key  # change numbers count up in the WMS's order
