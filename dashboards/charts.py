"""More pure figures (figures.py holds the first ones): the seed KPI trends and the queue
backlog feeding each facility. Rows from kpis.py and backlog.py in, a plotly Figure out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import fmt
from dashboards.figures import PALETTE, STATUS_COLOURS, _base, empty

__all__ = ["cycle_trend", "partner_health", "queue_backlog", "time_unit"]

Row = Mapping[str, Any]

# the largest unit in which the biggest value is still at least 1.5 (90 s shows as 1.5 min)
_UNITS = (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0))


def time_unit(seconds: Sequence[float | None]) -> tuple[str, float]:
    """The unit a series of durations reads best in, and its length in seconds."""
    biggest = max((s for s in seconds if s is not None), default=0.0)
    return next(((n, size) for n, size in _UNITS if biggest >= 1.5 * size), ("seconds", 1.0))


Span = tuple[datetime, datetime] | None


def _period(span: Span) -> dict[str, Any]:
    # the whole trend period on the x axis: KPIs side by side line up, and one point is not
    # stretched over a millisecond-wide axis
    return {"xaxis": {"range": list(span), "type": "date"}} if span else {}


def cycle_trend(
    rows: Sequence[Row], *, counted: str, start: str, end: str, span: Span = None
) -> go.Figure:
    """A cycle-time KPI per bucket: p95 (solid) and p50 (dotted) lines, how many in the hover;
    `span` (since, now) fixes the x axis to the trend period."""
    if not rows:
        return empty(f"No {counted} went from {start} to {end} in this period.", height=200)
    unit, size = time_unit([r["p95_seconds"] for r in rows])
    buckets = [r["bucket"] for r in rows]
    fig = go.Figure()
    for stat, dash in (("p95", "solid"), ("p50", "dot")):
        fig.add_scatter(
            x=buckets,
            y=[r[f"{stat}_seconds"] / size for r in rows],
            name=stat,
            mode="lines+markers",
            line={"color": PALETTE[0], "dash": dash},
            customdata=[[fmt.duration(r[f"{stat}_seconds"]), r["journeys"]] for r in rows],
            hovertemplate=f"{stat} %{{customdata[0]}} over %{{customdata[1]}} {counted}"
            "<br>%{x}<extra></extra>",
        )
    return _base(fig, height=200, yaxis={"title": unit, "rangemode": "tozero"}, **_period(span))


def partner_health(rows: Sequence[Row], *, span: Span = None) -> go.Figure:
    """Share of EDI documents without an error (line) and partners with an error (bars)."""
    if not rows:
        return empty("No EDI documents exchanged with partners in this period.", height=200)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    buckets = [r["bucket"] for r in rows]
    fig.add_bar(
        x=buckets,
        y=[r["partners_failing"] for r in rows],
        name="partners with errors",
        marker_color=STATUS_COLOURS["stalled"],
        opacity=0.6,
        secondary_y=True,
    )
    fig.add_scatter(
        x=buckets,
        y=[100 * (1 - r["errors"] / r["documents"]) if r["documents"] else 100 for r in rows],
        name="documents without error %",
        mode="lines+markers",
        line={"color": STATUS_COLOURS["on_track"]},
        customdata=[[r["documents"], r["errors"], r["partners"]] for r in rows],
        hovertemplate="%{y:.1f}% of %{customdata[0]} documents (%{customdata[1]} errors, "
        "%{customdata[2]} partners)<br>%{x}<extra></extra>",
    )
    fig.update_yaxes(title_text="healthy %", range=[0, 105], secondary_y=False)
    top = max(r["partners_failing"] for r in rows)
    fig.update_yaxes(
        title_text="partners",
        range=[0, max(3, top * 2)],
        dtick=max(1, top // 2),
        showgrid=False,
        secondary_y=True,
    )
    return _base(fig, height=200, **_period(span))


def queue_backlog(
    rows: Sequence[Row], *, zones: Mapping[str, ZoneInfo], now: datetime
) -> go.Figure:
    """Queue depth over time, one panel per facility the queues feed; dead-letter queues dashed
    and red-toned, so their growth stands out. Panel titles carry the facility's local time."""
    if not rows:
        return empty(
            "No queue samples in this period: point TOWER_RABBITMQ_URLS or "
            "TOWER_PROMETHEUS_URLS at the middleware, or post to /api/v1/queues/samples.",
        )
    facilities = list(dict.fromkeys(row["facility"] for row in rows))
    titles = []
    for facility in facilities:
        zone = zones.get(facility)
        name = facility or "shared (names no facility)"
        local = f" · {zone.key}, now {now.astimezone(zone):%H:%M %Z}" if zone else " · UTC"
        titles.append(name + local)
    fig = make_subplots(
        rows=len(facilities),
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=min(0.12, 0.3 / len(facilities)),
    )
    series: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        series.setdefault((row["facility"], row["queue"]), []).append(row)
    colours: dict[str, str] = {}
    for (facility, queue), points in series.items():
        dead = bool(points[0]["dead_letter"])
        colour = colours.setdefault(
            queue,
            STATUS_COLOURS["stalled"] if dead else PALETTE[len(colours) % len(PALETTE)],
        )
        fig.add_scatter(
            x=[p["bucket"] for p in points],
            y=[p["depth"] for p in points],
            mode="lines+markers",
            name=queue + (" (dead letters)" if dead else ""),
            line={"color": colour, "dash": "dash" if dead else "solid"},
            customdata=[[fmt.duration(p["oldest_age_seconds"]), p["broker"]] for p in points],
            hovertemplate=f"{queue}: " + "%{y} messages, oldest %{customdata[0]}"
            "<br>%{customdata[1]} · %{x}<extra></extra>",
            row=facilities.index(facility) + 1,
            col=1,
        )
    for panel in range(1, len(facilities) + 1):
        fig.update_yaxes(title_text="messages", rangemode="tozero", row=panel, col=1)
    _base(fig, height=120 + 220 * len(facilities))
    # the legend below the panels: above them it would cover the first panel's title
    fig.update_layout(legend={"y": -0.06, "yanchor": "top"}, margin={"b": 60})
    return fig
