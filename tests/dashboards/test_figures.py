"""figures.py, fmt.py and links.py are pure: data in, a figure or a string out. No browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import pytest

from dashboards import figures, fmt, queries
from tests.dashboards.conftest import Tower
from tests.dashboards.data import NOW

HOUR = timedelta(hours=1)


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def journey(tower: Tower, q: str) -> dict[str, Any]:
    found = [r for r in queries.search(store=tower.store, q=q, now=NOW) if r["kind"] == "order"]
    detail = queries.journey(store=tower.store, journey_id=found[0]["journey_id"], now=NOW)
    assert detail is not None
    return detail


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "0s"),
        (59.6, "1m"),
        (45, "45s"),
        (840, "14m"),
        (3600, "1h"),
        (3 * 3600 + 20 * 60, "3h 20m"),
        (2 * 86400 + 4 * 3600, "2d 4h"),
        (-90, "-1m"),
    ],
)
def test_durations_read_like_a_person_would_say_them(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_amounts_and_local_times() -> None:
    assert fmt.amounts([{"currency": "USD", "value": 2070.5}, {"currency": "EUR", "value": 9}])
    assert fmt.amounts([]) == "–"
    assert fmt.amounts([{"currency": None, "value": 12.0}]) == "12"
    east = ZoneInfo("America/New_York")
    assert fmt.moment("2026-11-23T12:00:00+00:00", east) == "2026-11-23 07:00:00 EST"
    assert fmt.moment(datetime(2026, 7, 1, 12, tzinfo=UTC), east) == "2026-07-01 08:00:00 EDT"
    assert fmt.moment(None) == ""


def test_risk_bars_stack_statuses_and_carry_the_drill_down_query(crafted: Tower) -> None:
    rows = queries.risk_breakdown(store=crafted.store, now=NOW)["facility"]
    fig = figures.risk_bars(rows, dimension="facility")
    stalled, at_risk = fig.data
    assert (stalled.name, at_risk.name) == ("stalled", "at risk")
    assert fig.layout.barmode == "stack"
    east = list(stalled.y).index("DC-EAST")
    assert stalled.x[east] == 2
    assert stalled.customdata[east][0] == "kind:order status:stalled facility:DC-EAST"
    empty = figures.risk_bars([], dimension="facility")
    assert empty.data == () and "No orders at risk by facility." in annotation_texts(empty)


def test_swimlane_has_a_lane_per_system_and_a_bar_per_stage(crafted: Tower) -> None:
    done = journey(crafted, "W-1004")
    fig = figures.swimlane(done, now=NOW)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert [b.name for b in bars] == [h["stage"] for h in done["history"]]
    assert list(fig.layout.yaxis.categoryarray) == ["carrier", "wms", "erp", "oms"]
    [events] = [t for t in fig.data if t.name == "events"]
    assert len(events.x) == len(done["events"]) == 8
    assert "now" not in annotation_texts(fig)  # a finished journey has no open end


def test_swimlane_highlights_errors_and_the_missed_deadline(crafted: Tower) -> None:
    errored = figures.swimlane(journey(crafted, "W-1003"), now=NOW)
    [errors] = [t for t in errored.data if t.name == "errors"]
    assert errors.marker.symbol == "x" and len(errors.x) == 1
    assert "posting period closed" in errors.customdata[0][2]
    texts = annotation_texts(errored)
    assert "missing_next" in texts and "now" in texts


def test_hop_lag_over_time_has_a_panel_per_facility_in_its_zone(crafted: Tower) -> None:
    rows = queries.hop_lag_over_time(
        store=crafted.store, now=NOW, since=NOW - 6 * HOUR, bucket=HOUR
    )
    zones = {"DC-EAST": ZoneInfo("America/New_York")}
    fig = figures.hop_lag_over_time(rows, zones=zones, now=NOW)
    assert annotation_texts(fig) == ["DC-EAST · America/New_York, now 07:00 EST"]
    assert {t.name for t in fig.data} == {
        f"{hop} {stat}"
        for hop in ("wms -> middleware", "middleware -> erp", "erp -> channel")
        for stat in ("p50", "p95")
    }
    [p95] = [t for t in fig.data if t.name == "middleware -> erp p95"]
    assert list(p95.y) == [8.0, 20.0]  # minutes, per bucket
    assert sum(1 for t in fig.data if t.showlegend) == 6
    assert figures.hop_lag_over_time([], zones=zones, now=NOW).data == ()


def test_drift_bars_label_sku_and_facility() -> None:
    rows = [
        {
            "sku": "SKU-1",
            "facility": "DC-EAST",
            "drift": 4.0,
            "positions": [{"system": "erp", "on_hand": 96.0}, {"system": "wms", "on_hand": 100.0}],
        },
    ]
    [bar] = figures.drift_bars(rows).data
    assert list(bar.y) == ["SKU-1 @ DC-EAST"] and list(bar.x) == [4.0]
    assert bar.customdata[0][0] == "erp 96, wms 100"


def test_process_sankey_and_funnel(crafted: Tower) -> None:
    cohort = {"store": crafted.store, "now": NOW, "since": NOW - 7 * 24 * HOUR, "kind": "order"}
    hops = queries.process_hops(**cohort)
    funnel_rows = queries.process_funnel(**cohort)
    [sankey] = figures.process_sankey(hops, funnel_rows).data
    assert sum(sankey.link.value) == sum(r["journeys"] for r in hops)
    assert sankey.node.label[0] == "received (5)"
    [funnel] = figures.funnel(funnel_rows).data
    assert list(funnel.y)[:2] == ["received", "accepted"] and list(funnel.x)[:2] == [5, 4]
    assert figures.process_sankey([], []).data == ()


def test_exception_trend_plots_the_rate_in_percent() -> None:
    rows = [
        {"bucket": NOW - HOUR, "journeys": 4, "exceptions": 1},
        {"bucket": NOW, "journeys": 0, "exceptions": 0},
    ]
    bars, rate = figures.exception_trend(rows).data
    assert list(bars.y) == [4, 0]
    assert list(rate.y) == [25.0, 0]
    assert "No orders started" in annotation_texts(figures.exception_trend([]))[0]


def test_burn_rates_show_both_windows_against_the_paging_factor() -> None:
    slos = [
        {
            "name": "events_ok",
            "windows": [
                {
                    "long": 3600.0,
                    "short": 300.0,
                    "factor": 14.4,
                    "severity": "critical",
                    "long_burn": 20.0,
                    "short_burn": None,  # the short window saw nothing
                    "firing": False,
                },
                {
                    "long": 21600.0,
                    "short": 1800.0,
                    "factor": 6.0,
                    "severity": "critical",
                    "long_burn": 1.5,
                    "short_burn": 0.5,
                    "firing": False,
                },
            ],
        }
    ]
    long, short, factor = figures.burn_rates(slos).data
    assert list(long.x) == ["events_ok · 1h / 5m", "events_ok · 6h / 30m"]
    assert list(long.y) == [20.0, 1.5] and list(short.y) == [None, 0.5]
    assert list(factor.y) == [14.4, 6.0]
    assert "No SLO evaluated" in annotation_texts(figures.burn_rates([]))[0]
    assert "No SLO evaluated" in annotation_texts(figures.burn_rates([{"windows": []}]))[0]


def test_error_rates_plot_percent_with_errors_in_red() -> None:
    rows = [
        {"source": "edi.as2", "events": 4, "errors": 1, "error_rate": 0.25},
        {"source": "wms.main", "events": 10, "errors": 0, "error_rate": 0.0},
    ]
    [bars] = figures.error_rates(rows).data
    assert list(bars.y) == ["wms.main", "edi.as2"]  # the most errors on top
    assert list(bars.x) == [0.0, 25.0]
    assert list(bars.marker.color) == [
        figures.STATUS_COLOURS["on_track"],
        figures.STATUS_COLOURS["stalled"],
    ]
    assert "No events in the last hour" in annotation_texts(figures.error_rates([]))[0]
