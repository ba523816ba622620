"""charts.py is pure: KPI rows in, a figure out. No browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards import charts

T = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "unit"),
    [
        ([], "seconds"),
        ([None, 30.0], "seconds"),
        ([89.0], "seconds"),
        ([90.0, 10.0], "minutes"),
        ([1800.0, 7200.0], "hours"),
        ([3 * 86400.0], "days"),
    ],
)
def test_durations_read_in_the_largest_fitting_unit(seconds: list[float | None], unit: str) -> None:
    assert charts.time_unit(seconds)[0] == unit


def cycle_rows() -> list[dict[str, Any]]:
    return [
        {"bucket": T, "journeys": 2, "p50_seconds": 1200.0, "p95_seconds": 1740.0},
        {"bucket": T + timedelta(hours=1), "journeys": 1, "p50_seconds": 600.0,
         "p95_seconds": 600.0},
    ]  # fmt: skip


def test_a_cycle_trend_draws_p95_and_p50_in_minutes() -> None:
    fig = charts.cycle_trend(cycle_rows(), counted="stock changes", start="a", end="b")
    p95, p50 = fig.data
    assert (p95.name, p50.name) == ("p95", "p50")
    assert list(p95.y) == [29.0, 10.0] and list(p50.y) == [20.0, 10.0]
    assert fig.layout.yaxis.title.text == "minutes"
    assert list(p95.customdata[0]) == ["29m", 2]


def test_an_empty_cycle_trend_says_which_cycle_has_no_journeys() -> None:
    fig = charts.cycle_trend([], counted="purchase orders", start="sent", end="acknowledged")
    assert fig.layout.annotations[0].text == (
        "No purchase orders went from sent to acknowledged in this period."
    )


def test_partner_health_is_the_share_without_errors_and_the_failing_partners() -> None:
    rows = [
        {"bucket": T, "documents": 4, "errors": 1, "partners": 2, "partners_failing": 1},
        {"bucket": T + timedelta(hours=1), "documents": 2, "errors": 0, "partners": 1,
         "partners_failing": 0},
    ]  # fmt: skip
    fig = charts.partner_health(rows)
    bars, line = fig.data
    assert list(line.y) == [75.0, 100.0]
    assert list(bars.y) == [1, 0] and bars.name == "partners with errors"
    assert "No EDI documents" in charts.partner_health([]).layout.annotations[0].text


def test_kpi_trends_span_the_whole_period_even_with_one_point() -> None:
    since, now = T - timedelta(days=7), T + timedelta(hours=3)
    fig = charts.cycle_trend(cycle_rows()[:1], counted="orders", start="a", end="b",
                             span=(since, now))  # fmt: skip
    assert [fmt_time(x) for x in fig.layout.xaxis.range] == [since, now]
    health = charts.partner_health(
        [{"bucket": T, "documents": 1, "errors": 0, "partners": 1, "partners_failing": 0}],
        span=(since, now),
    )
    assert [fmt_time(x) for x in health.layout.xaxis.range] == [since, now]


def fmt_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
