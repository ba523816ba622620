"""Queue backlog feeding each facility: the name rule, the query on a real tower, the figure,
and the facilities page in a real headless Chromium."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboards import backlog, charts
from tests.dashboards import telemetry_data as data
from tests.dashboards.conftest import Tower

FACILITIES = ["DC-EAST", "DC-WEST", "DC-EU"]
ZONES = {"DC-EAST": ZoneInfo("America/New_York"), "DC-EU": ZoneInfo("Europe/Amsterdam")}


@pytest.mark.parametrize(
    ("queue", "facility"),
    [
        ("orders.dc-east.in", "DC-EAST"),
        ("orders.dc-east.in.dlq", "DC-EAST"),
        ("picks_DC_EU", "DC-EU"),  # any case, _ read as -
        ("DC-WEST/allocations", "DC-WEST"),
        ("orders.oms-to-erp", None),  # names no facility: shared
        ("orders.dc-eastern", None),  # whole words only
        ("xdc-eu", None),
    ],
)
def test_a_queue_feeds_the_facility_its_name_names(queue: str, facility: str | None) -> None:
    assert backlog.facility_of(queue, FACILITIES) == facility


def test_the_longest_facility_code_wins() -> None:
    assert backlog.facility_of("in.dc-eu.orders", ["DC", "DC-EU"]) == "DC-EU"
    assert backlog.facility_of("in.dc.orders", ["DC", "DC-EU"]) == "DC"


def rows(extras: Tower, facility: str | None = None) -> list[dict[str, Any]]:
    return backlog.backlog(
        store=extras.store,
        now=data.NOW,
        since=data.NOW - timedelta(hours=24),
        bucket=timedelta(hours=1),
        facilities=FACILITIES,
        facility=facility,
    )


def test_backlog_is_depth_per_queue_and_bucket_with_its_facility(extras: Tower) -> None:
    found = rows(extras)
    series: dict[tuple[str, str], list[int]] = {}
    for row in found:
        series.setdefault((row["facility"], row["queue"]), []).append(row["depth"])
    assert series == {
        ("DC-EAST", "orders.dc-east.in"): [120, 60, 30],
        ("DC-EAST", "orders.dc-east.in.dlq"): [1, 3, 8],
        ("DC-EU", "picks_DC_EU"): [5, 5, 5],
        ("", "orders.oms-to-erp"): [10, 40, 90],  # shared, listed last
    }
    [dlq] = {r["queue"]: r for r in found if r["dead_letter"]}.values()
    assert dlq["queue"] == "orders.dc-east.in.dlq"  # by the name rule of docs/queues.md


def test_one_facility_keeps_its_queues_and_the_shared_ones(extras: Tower) -> None:
    assert {r["queue"] for r in rows(extras, "DC-EU")} == {"picks_DC_EU", "orders.oms-to-erp"}


def test_growth_puts_growing_dead_letters_first(extras: Tower) -> None:
    growth = backlog.growth(rows(extras))
    assert [(g["queue"], g["depth"], g["growth"]) for g in growth] == [
        ("orders.dc-east.in.dlq", 8, 7),
        ("orders.oms-to-erp", 90, 80),
        ("picks_DC_EU", 5, 0),
        ("orders.dc-east.in", 30, -90),
    ]
    assert growth[0]["oldest_age_seconds"] == 480.0


def test_the_backlog_figure_has_a_panel_per_facility_in_local_time(extras: Tower) -> None:
    fig = charts.queue_backlog(rows(extras), zones=ZONES, now=data.NOW)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [
        "DC-EAST · America/New_York, now 07:00 EST",
        "DC-EU · Europe/Amsterdam, now 13:00 CET",
        "shared (names no facility) · UTC",
    ]
    dead = [t for t in fig.data if "dead letters" in t.name]
    assert [t.line.dash for t in dead] == ["dash"] and list(dead[0].y) == [1, 3, 8]
    empty = charts.queue_backlog([], zones=ZONES, now=data.NOW)
    assert "No queue samples" in empty.layout.annotations[0].text


def test_the_facilities_page_shows_the_backlog(page: Any, extras: Tower) -> None:
    from playwright.sync_api import expect

    page.goto(f"{extras.url}/ui/facilities")
    rows = page.locator("#fac-backlog-rows tbody tr")
    expect(rows).to_have_count(4)
    first = rows.first.locator("td")
    expect(first.nth(0)).to_have_text("DC-EAST")
    expect(first.nth(1)).to_have_text("orders.dc-east.in.dlq (dead letters)")
    expect(first.nth(4)).to_have_text("+7")
    expect(first.nth(6)).to_have_text("07:00 EST")
    expect(rows.first).to_have_class("error")  # dead letters growing
    expect(page.locator("#fac-backlog-chart .main-svg").first).to_be_visible()

    page.locator("#fac-facility").click()
    page.get_by_role("option", name="DC-EU").click()
    page.wait_for_url("**facility=DC-EU**")
    expect(rows).to_have_count(2)
    expect(page.locator("#fac-backlog-rows")).not_to_contain_text("dc-east")
