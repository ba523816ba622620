"""Executive: which orders, and how much money, are at risk or stalled, and where."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html, no_update
from dash import ctx as dash_ctx
from dash.development.base_component import Component

from dashboards import charts, figures, fmt, kpis, queries
from dashboards.components import (
    Context,
    card,
    filter_bar,
    graph,
    header,
    notice,
    search_of,
    table,
    updated,
)
from dashboards.links import search_query
from tower.exceptions import TowerError

TITLE = "Executive"
PAGE = "exec"
KIND = "order"
DIMENSIONS = ("stage", "facility", "channel", "customer")
CYCLES = kpis.CYCLES


def layout(ctx: Context, params: dict[str, str]) -> Component:
    """The page skeleton; the data arrives through the refresh callback."""
    del ctx
    period = params.get("period") or "24h"
    return html.Div(
        [
            header(
                "Fulfilment at risk",
                "Which orders, and how much money, are at risk or stalled, and where? "
                "Click any number or bar for the orders behind it.",
                page_id=PAGE,
            ),
            filter_bar(PAGE, [("period", "Trend period", list(queries.PERIODS), period)]),
            html.Div(id=f"{PAGE}-kpis", className="kpis"),
            html.Div(
                className="cards",
                children=[
                    card(
                        f"At risk by {dimension}",
                        graph(f"{PAGE}-by-{dimension}"),
                        html.Div(id=f"{PAGE}-table-{dimension}"),
                    )
                    for dimension in DIMENSIONS
                ],
            ),
            card("Top stalled orders by value", html.Div(id=f"{PAGE}-stalled"), wide=True),
            html.H2("Seed KPIs over the trend period", className="section"),
            html.Div(
                className="cards",
                children=[
                    card(
                        "Order exception rate (anomaly, error, stall or failure)",
                        graph(f"{PAGE}-trend"),
                    ),
                    *(card(cycle.title, graph(f"{PAGE}-kpi-{cycle.name}")) for cycle in CYCLES),
                    card(
                        "Partner connectivity health (EDI documents without error)",
                        graph(f"{PAGE}-kpi-partner_health"),
                    ),
                ],
            ),
            dcc.Store(id=f"{PAGE}-params", data=params),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The page's callbacks, on this app only."""
    outputs = [
        Output(f"{PAGE}-kpis", "children"),
        *(Output(f"{PAGE}-by-{d}", "figure") for d in DIMENSIONS),
        *(Output(f"{PAGE}-table-{d}", "children") for d in DIMENSIONS),
        Output(f"{PAGE}-stalled", "children"),
        Output(f"{PAGE}-updated", "children"),
    ]

    @app.callback(*outputs, Input(f"{PAGE}-params", "data"), Input("tick", "n_intervals"))
    def refresh(params: dict[str, str] | None, _tick: int | None) -> tuple[Any, ...]:
        del params  # the headline figures are as of now, whatever the trend period
        now = ctx.clock()
        try:
            summary = queries.risk_summary(store=ctx.store, now=now, kind=KIND)
            breakdown = queries.risk_breakdown(store=ctx.store, now=now, kind=KIND)
            stalled = queries.top_stalled(store=ctx.store, now=now, kind=KIND)
        except TowerError as exc:
            blank = figures.empty("No data: see the message above.")
            return (
                notice(exc.detail, kind="error"),
                *[blank] * len(DIMENSIONS),
                *[None] * len(DIMENSIONS),
                None,
                updated(now),
            )
        bars: list[go.Figure] = [
            figures.risk_bars(breakdown[d], dimension=d, kind=KIND) for d in DIMENSIONS
        ]
        tables = [_breakdown_table(ctx, d, breakdown[d]) for d in DIMENSIONS]
        return (
            _kpis(ctx, summary),
            *bars,
            *tables,
            _stalled_table(ctx, stalled, now=now),
            updated(now),
        )

    # One callback per KPI chart: each is a scan of its own, and the browser asks for them
    # side by side (the server answers them on its thread pool), so a long trend period
    # costs each chart its own query only.
    _trend(app, ctx, "trend", _exception_rate)
    for cycle in CYCLES:
        _trend(app, ctx, f"kpi-{cycle.name}", _cycle_chart(cycle))
    _trend(app, ctx, "kpi-partner_health", _partner_chart)

    @app.callback(
        Output("url", "href", allow_duplicate=True),
        *(Input(f"{PAGE}-by-{d}", "clickData") for d in DIMENSIONS),
        prevent_initial_call=True,
    )
    def drill_down(*clicks: dict[str, Any] | None) -> Any:
        del clicks
        click = dash_ctx.triggered[0]["value"] if dash_ctx.triggered else None
        if not click or not click.get("points"):
            return no_update
        return ctx.trace(click["points"][0]["customdata"][0])

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input(f"{PAGE}-period", "value"),
        prevent_initial_call=True,
    )
    def keep_in_url(period: str | None) -> str:
        return search_of({"period": period})


Chart = Callable[[Context, datetime, timedelta, timedelta], go.Figure]


def _trend(app: Dash, ctx: Context, name: str, chart: Chart) -> None:
    @app.callback(
        Output(f"{PAGE}-{name}", "figure"),
        Input(f"{PAGE}-params", "data"),
        Input("tick", "n_intervals"),
    )
    def trend(params: dict[str, str] | None, _tick: int | None) -> go.Figure:
        now = ctx.clock()
        back, bucket = queries.period((params or {}).get("period") or "24h")
        try:
            return chart(ctx, now, back, bucket)
        except TowerError as exc:
            return figures.empty(exc.detail)


def _exception_rate(ctx: Context, now: datetime, back: timedelta, bucket: timedelta) -> go.Figure:
    rows = queries.exception_trend(
        store=ctx.store, now=now, since=now - back, bucket=bucket, kind=KIND
    )
    return figures.exception_trend(rows, kind=KIND)


def _cycle_chart(cycle: kpis.Cycle) -> Chart:
    def chart(ctx: Context, now: datetime, back: timedelta, bucket: timedelta) -> go.Figure:
        rows = kpis.cycle_trend(
            store=ctx.store, cycle=cycle, now=now, since=now - back, bucket=bucket
        )
        return charts.cycle_trend(
            rows, counted=cycle.counted, start=cycle.start, end=cycle.end, span=(now - back, now)
        )

    return chart


def _partner_chart(ctx: Context, now: datetime, back: timedelta, bucket: timedelta) -> go.Figure:
    rows = kpis.partner_health(store=ctx.store, now=now, since=now - back, bucket=bucket)
    return charts.partner_health(rows, span=(now - back, now))


def _kpis(ctx: Context, summary: dict[str, Any]) -> list[Component]:
    at_risk, stalled = summary["at_risk"], summary["stalled"]
    combined: dict[str | None, float] = {}
    for item in at_risk["amounts"] + stalled["amounts"]:
        combined[item["currency"]] = combined.get(item["currency"], 0.0) + item["value"]
    value_at_risk = [{"currency": c, "value": v} for c, v in sorted(combined.items(), key=str)]
    return [
        _kpi(
            ctx,
            "open",
            "Open orders",
            summary["open"],
            "",
            search_query(kind=KIND) + " -status:done -status:failed",
        ),
        _kpi(
            ctx,
            "at-risk",
            "At risk",
            at_risk["journeys"],
            fmt.amounts(at_risk["amounts"]),
            search_query(kind=KIND, status="at_risk"),
        ),
        _kpi(
            ctx,
            "stalled",
            "Stalled",
            stalled["journeys"],
            fmt.amounts(stalled["amounts"]),
            search_query(kind=KIND, status="stalled"),
        ),
        _kpi(
            ctx,
            "value",
            "Value at risk",
            fmt.amounts(value_at_risk),
            "at risk + stalled",
            search_query(kind=KIND, status="at_risk")
            + " OR "
            + search_query(kind=KIND, status="stalled"),
        ),
    ]


def _kpi(ctx: Context, name: str, label: str, value: Any, sub: str, query: str) -> Component:
    return dcc.Link(
        id=f"kpi-{name}",
        className=f"kpi kpi-{name}",
        href=ctx.trace(query),
        children=[
            html.Span(label, className="kpi-label"),
            html.Span(f"{value:,}" if isinstance(value, int) else value, className="kpi-value"),
            html.Span(sub, className="kpi-sub"),
        ],
    )


def _breakdown_table(ctx: Context, dimension: str, rows: list[dict[str, Any]]) -> Component:
    def count(row: dict[str, Any], status: str) -> Component | int:
        if not row[status]:
            return 0
        query = search_query(kind=KIND, status=status, **{dimension: row["key"]})
        return dcc.Link(str(row[status]), href=ctx.trace(query), className=f"drill {status}")

    return table(
        [dimension, "at risk", "stalled", "value"],
        [
            [
                row["key"] or "(none)",
                count(row, "at_risk"),
                count(row, "stalled"),
                fmt.amounts(row["amounts"]),
            ]
            for row in rows
        ],
        empty=f"No {KIND}s at risk.",
        id=f"{PAGE}-rows-{dimension}",
    )


def _stalled_table(ctx: Context, rows: list[dict[str, Any]], *, now: Any) -> Component:
    return table(
        ["order", "customer", "facility", "stuck in", "overdue by", "value"],
        [
            [
                dcc.Link(row["label"], href=ctx.trace(row["label"])),
                row["customer"],
                row["facility"],
                row["stage"],
                fmt.duration((now - row["next_due_at"]).total_seconds())
                if row["next_due_at"]
                else "",
                fmt.amounts([{"currency": row["currency"], "value": row["value"]}]),
            ]
            for row in rows
        ],
        empty="No stalled orders. Nothing is overdue.",
        id=f"{PAGE}-stalled-rows",
    )
