"""Pure figures: rows from queries.py in, a plotly Figure out. No I/O, no clock of their own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import fmt
from dashboards.links import search_query

__all__ = [
    "STATUS_COLOURS",
    "burn_rates",
    "drift_bars",
    "empty",
    "error_rates",
    "exception_trend",
    "funnel",
    "hop_lag_over_time",
    "process_sankey",
    "risk_bars",
    "swimlane",
    "window_name",
]

Row = Mapping[str, Any]

STATUS_COLOURS = {
    "on_track": "#2f855a",
    "at_risk": "#d69e2e",
    "stalled": "#c53030",
    "failed": "#742a2a",
    "done": "#718096",
}
PALETTE = ("#2b6cb0", "#2c7a7b", "#6b46c1", "#b7791f", "#2f855a", "#c05621", "#4a5568", "#97266d")
FONT = {"family": "Inter, system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}


def _base(fig: go.Figure, *, height: int, **layout: Any) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 36, "b": 10},
        font=FONT,
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        **layout,
    )
    return fig


def empty(message: str, *, height: int = 220) -> go.Figure:
    """A blank figure that says why it is blank and what to do."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base(fig, height=height)


# -- executive -------------------------------------------------------------------------------


def risk_bars(rows: Sequence[Row], *, dimension: str, kind: str = "order") -> go.Figure:
    """At-risk and stalled counts per key of one dimension, stacked; a click drills down."""
    if not rows:
        return empty(f"No {kind}s at risk by {dimension}.", height=180)
    ordered = list(reversed(rows))  # the biggest on top
    labels = [row["key"] or "(none)" for row in ordered]
    fig = go.Figure()
    for status in ("stalled", "at_risk"):
        fig.add_bar(
            name=status.replace("_", " "),
            orientation="h",
            y=labels,
            x=[row[status] for row in ordered],
            marker_color=STATUS_COLOURS[status],
            customdata=[
                [
                    search_query(kind=kind, status=status, **{dimension: row["key"]}),
                    fmt.amounts(row["amounts"]),
                ]
                for row in ordered
            ],
            hovertemplate="%{y}: %{x} " + status.replace("_", " ") + "<br>"
            "value at risk (all): %{customdata[1]}<extra></extra>",
        )
    return _base(
        fig,
        height=max(160, 60 + 26 * len(rows)),
        barmode="stack",
        xaxis_title=f"{kind}s",
        yaxis={"automargin": True},
    )


def exception_trend(rows: Sequence[Row], *, kind: str = "order") -> go.Figure:
    """Journeys started per bucket (bars) and the share that met an exception (line)."""
    if not rows:
        return empty(f"No {kind}s started in this period.")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    buckets = [row["bucket"] for row in rows]
    fig.add_bar(
        x=buckets,
        y=[row["journeys"] for row in rows],
        name=f"{kind}s started",
        marker_color="#cbd5e0",
    )
    rates = [100 * row["exceptions"] / row["journeys"] if row["journeys"] else 0 for row in rows]
    fig.add_scatter(
        x=buckets,
        y=rates,
        name="exception rate %",
        mode="lines+markers",
        line={"color": STATUS_COLOURS["stalled"]},
        secondary_y=True,
    )
    fig.update_yaxes(title_text=f"{kind}s", secondary_y=False)
    fig.update_yaxes(title_text="exception rate %", secondary_y=True, range=[0, 105])
    return _base(fig, height=260)


# -- trace -----------------------------------------------------------------------------------


def swimlane(journey: Row, *, now: datetime) -> go.Figure:
    """A journey's stages as bars on one lane per system, its events and anomalies on top."""
    events: list[Row] = list(journey.get("events") or [])
    history: list[Row] = list(journey.get("history") or [])
    if not events and not history:
        return empty("This journey has no events yet.")
    lanes = list(dict.fromkeys([*journey.get("systems", []), *(e["system"] for e in events)]))
    fig = go.Figure()
    last = fmt.parse_time(journey.get("last_event_at")) or now
    for index, visit in enumerate(history):
        start = fmt.parse_time(visit["entered_at"])
        assert start is not None
        if index + 1 < len(history):
            end = fmt.parse_time(history[index + 1]["entered_at"]) or start
        else:
            end = max(now, start) if journey.get("state") == "open" else max(last, start)
        took = fmt.duration(visit.get("latency_seconds"))
        fig.add_bar(
            orientation="h",
            y=[visit["system"]],
            base=[start],
            x=[max((end - start).total_seconds() * 1000, 1000)],
            name=visit["stage"],
            text=[visit["stage"]],
            textposition="inside",
            insidetextanchor="start",
            marker={"color": PALETTE[index % len(PALETTE)], "opacity": 0.55},
            hovertemplate=f"<b>{visit['stage']}</b> in {visit['system']} ({visit['source']})"
            f"<br>entered {fmt.moment(start)}"
            + (
                f"<br>from {visit['from_stage']} ({visit['from_system']}), took {took}"
                if took
                else ""
            )
            + "<extra></extra>",
            showlegend=False,
        )
    flagged = {a["seq"] for a in journey.get("anomalies", []) if a.get("seq") is not None}
    for name, chosen, symbol, colour in (
        ("events", [e for e in events if e["status"] != "error"], "circle", "#1a202c"),
        ("errors", [e for e in events if e["status"] == "error"], "x", STATUS_COLOURS["stalled"]),
    ):
        if chosen:
            fig.add_scatter(
                x=[e["occurred_at"] for e in chosen],
                y=[e["system"] for e in chosen],
                mode="markers",
                name=name,
                marker={
                    "symbol": symbol,
                    "size": [13 if e["seq"] in flagged else 8 for e in chosen],
                    "color": colour,
                    "line": {
                        "width": [3 if e["seq"] in flagged else 0 for e in chosen],
                        "color": STATUS_COLOURS["stalled"],
                    },
                },
                customdata=[[e["type"], e["source"], e.get("error") or ""] for e in chosen],
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{x}"
                "<br>%{customdata[2]}<extra></extra>",
            )
    for anomaly in journey.get("anomalies", []):
        if anomaly.get("seq") is None and anomaly.get("at") is not None:
            _marker_line(fig, fmt.parse_time(anomaly["at"]), anomaly["kind"], dash="dash")
    if journey.get("state") == "open":
        _marker_line(fig, now, "now", dash="dot", colour="#4a5568")
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(lanes)), title_text="")
    fig.update_xaxes(type="date", title_text="UTC")
    height = 150 + 48 * len(lanes)
    _base(fig, height=height, barmode="overlay", uirevision=journey.get("journey_id"))
    fig.update_layout(legend={"y": -0.2, "yanchor": "top"}, margin={"b": 40})
    return fig


def _marker_line(
    fig: go.Figure, at: datetime | None, text: str, *, dash: str, colour: str = "#c53030"
) -> None:
    if at is None:
        return
    fig.add_shape(
        type="line",
        x0=at,
        x1=at,
        yref="paper",
        y0=0,
        y1=1,
        line={"color": colour, "dash": dash, "width": 1.5},
    )
    fig.add_annotation(
        x=at, yref="paper", y=1.02, text=text, showarrow=False, font={"color": colour}
    )


# -- facilities ------------------------------------------------------------------------------


def hop_lag_over_time(
    rows: Sequence[Row], *, zones: Mapping[str, ZoneInfo], now: datetime
) -> go.Figure:
    """Inventory hop lag p95 (solid) and p50 (dotted) per hop, one panel per facility."""
    if not rows:
        return empty("No inventory hops in this period: are the WMS and ERP sending events?")
    facilities = list(dict.fromkeys(row["facility"] for row in rows))
    titles = []
    for facility in facilities:
        zone = zones.get(facility)
        local = f" · {zone.key}, now {now.astimezone(zone):%H:%M %Z}" if zone else " · UTC"
        titles.append((facility or "(no facility)") + local)
    fig = make_subplots(
        rows=len(facilities),
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=min(0.12, 0.3 / len(facilities)),
    )
    colours: dict[str, str] = {}
    series: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        hop = f"{row['from_system']} -> {row['to_system']}"
        series.setdefault((row["facility"], hop), []).append(row)
    for (facility, hop), points in series.items():
        first = hop not in colours  # one legend entry per hop, shared by the panels
        colour = colours.setdefault(hop, PALETTE[len(colours) % len(PALETTE)])
        panel = facilities.index(facility) + 1
        for stat, dash in (("p95", "solid"), ("p50", "dot")):
            fig.add_scatter(
                x=[p["bucket"] for p in points],
                y=[p[f"{stat}_seconds"] / 60 for p in points],
                mode="lines+markers",
                name=f"{hop} {stat}",
                legendgroup=hop,
                showlegend=first,
                line={"color": colour, "dash": dash},
                customdata=[[fmt.duration(p[f"{stat}_seconds"]), p["hops"]] for p in points],
                hovertemplate=f"{facility} {hop} {stat}: " + "%{customdata[0]} "
                "(%{customdata[1]} hops)<br>%{x}<extra></extra>",
                row=panel,
                col=1,
            )
        fig.update_yaxes(title_text="minutes", rangemode="tozero", row=panel, col=1)
    return _base(fig, height=80 + 220 * len(facilities))


def drift_bars(rows: Sequence[Row], *, top: int = 20) -> go.Figure:
    """The biggest position gaps between systems, per SKU and facility."""
    if not rows:
        return empty("No drift: every system reports the same stock for every SKU.", height=160)
    shown = list(reversed(rows[:top]))
    fig = go.Figure()
    fig.add_bar(
        orientation="h",
        y=[f"{row['sku']} @ {row['facility']}" for row in shown],
        x=[row["drift"] for row in shown],
        marker_color=STATUS_COLOURS["at_risk"],
        customdata=[
            [", ".join(f"{p['system']} {p['on_hand']:g}" for p in row["positions"])]
            for row in shown
        ],
        hovertemplate="%{y}: gap %{x}<br>%{customdata[0]}<extra></extra>",
    )
    return _base(fig, height=max(160, 60 + 24 * len(shown)), xaxis_title="units apart")


# -- process map -----------------------------------------------------------------------------


def process_sankey(hops: Sequence[Row], funnel_rows: Sequence[Row]) -> go.Figure:
    """Stages as nodes and hops as flows, each flow as wide as the journeys that took it."""
    if not hops:
        return empty("No stage-to-stage hops for these filters in this period.")
    named = [r["stage"] for r in funnel_rows] + [r["from_stage"] for r in hops]
    stages = list(dict.fromkeys(named + [r["to_stage"] for r in hops]))
    reached = {r["stage"]: r["journeys"] for r in funnel_rows}
    index = {stage: i for i, stage in enumerate(stages)}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{s} ({reached.get(s, 0)})" for s in stages],
                "color": [PALETTE[i % len(PALETTE)] for i in range(len(stages))],
                "pad": 18,
            },
            link={
                "source": [index[r["from_stage"]] for r in hops],
                "target": [index[r["to_stage"]] for r in hops],
                "value": [r["journeys"] for r in hops],
                "customdata": [
                    [fmt.duration(r["p50_seconds"]), fmt.duration(r["p95_seconds"]), r["systems"]]
                    for r in hops
                ],
                "hovertemplate": "%{source.label} -> %{target.label}: %{value} journeys<br>"
                "p50 %{customdata[0]}, p95 %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
            },
        )
    )
    return _base(fig, height=420)


def funnel(rows: Sequence[Row]) -> go.Figure:
    """Journeys reaching each stage, in the usual order of the stages."""
    if not rows:
        return empty("No journeys for these filters in this period.")
    fig = go.Figure(
        go.Funnel(
            y=[r["stage"] for r in rows],
            x=[r["journeys"] for r in rows],
            textinfo="value+percent initial",
            marker={"color": PALETTE[0]},
        )
    )
    return _base(fig, height=max(220, 60 + 34 * len(rows)))


# -- on-call ---------------------------------------------------------------------------------


def window_name(window: Row) -> str:
    """A burn-rate window pair as '1h / 5m'."""
    return f"{fmt.duration(window['long'])} / {fmt.duration(window['short'])}"


def burn_rates(slos: Sequence[Row]) -> go.Figure:
    """Burn rate of each SLO per window pair (long and short window), against the factor
    at which the pair pages; a pair whose both windows reach it is firing."""
    pairs = [(slo, w) for slo in slos for w in slo["windows"]]
    if not pairs:
        return empty(
            "No SLO evaluated yet: burn rates appear after the SLA cycle has run once.",
            height=160,
        )
    names = [f"{slo['name']} · {window_name(w)}" for slo, w in pairs]
    fig = go.Figure()
    for which, colour in (("long", PALETTE[0]), ("short", PALETTE[2])):
        fig.add_bar(
            name=f"{which} window",
            x=names,
            y=[w[f"{which}_burn"] for _, w in pairs],
            marker_color=colour,
            hovertemplate=f"%{{x}}: {which} window burns %{{y:.2f}}x<extra></extra>",
        )
    fig.add_scatter(
        name="pages at",
        x=names,
        y=[w["factor"] for _, w in pairs],
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 28, "color": STATUS_COLOURS["stalled"]},
        customdata=[[w["severity"]] for _, w in pairs],
        hovertemplate="%{x}: pages (%{customdata[0]}) at %{y}x<extra></extra>",
    )
    return _base(fig, height=260, barmode="group", yaxis_title="x budget rate")


def error_rates(rows: Sequence[Row]) -> go.Figure:
    """Share of each source's events that reported an error (most errors on top)."""
    if not rows:
        return empty("No events in the last hour: is anything sending?", height=160)
    shown = list(reversed(rows))
    fig = go.Figure()
    fig.add_bar(
        orientation="h",
        y=[row["source"] for row in shown],
        x=[100 * row["error_rate"] for row in shown],
        marker_color=[
            STATUS_COLOURS["stalled"] if row["errors"] else STATUS_COLOURS["on_track"]
            for row in shown
        ],
        customdata=[[row["errors"], row["events"]] for row in shown],
        hovertemplate="%{y}: %{x:.1f}% (%{customdata[0]} of %{customdata[1]})<extra></extra>",
    )
    return _base(
        fig,
        height=max(160, 60 + 24 * len(shown)),
        xaxis={"title": "% of events with status error", "rangemode": "tozero"},
    )
