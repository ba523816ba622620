"""Facilities: how far behind is each site's inventory sync, and where do the systems disagree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, dcc, html, no_update
from dash.development.base_component import Component

from dashboards import backlog, charts, figures, fmt, queries
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
from tower.exceptions import TowerError

TITLE = "Facilities"
PAGE = "fac"


def layout(ctx: Context, params: dict[str, str]) -> Component:
    """Filters from the URL; the data arrives through the refresh callback."""
    return html.Div(
        [
            header(
                "Facilities",
                "How far behind is each facility's inventory sync (WMS -> middleware -> ERP -> "
                "channels), which SKUs do the systems disagree on, and which queues back up?",
                page_id=PAGE,
            ),
            filter_bar(
                PAGE,
                [
                    ("facility", "Facility", sorted(ctx.zones), params.get("facility")),
                    ("period", "Period", list(queries.PERIODS), params.get("period") or "24h"),
                ],
            ),
            html.Div(id=f"{PAGE}-clocks", className="kpis"),
            card(
                "Inventory hop lag over time: p95 solid, p50 dotted",
                graph(f"{PAGE}-lag-trend"),
                wide=True,
            ),
            card("Hop lag in the period", html.Div(id=f"{PAGE}-lag"), wide=True),
            card("Drift per SKU: the biggest gaps", graph(f"{PAGE}-drift-chart"), wide=True),
            card("Positions that disagree", html.Div(id=f"{PAGE}-drift"), wide=True),
            card(
                "Queue backlog feeding each facility: dead-letter queues dashed red",
                graph(f"{PAGE}-backlog-chart"),
                wide=True,
            ),
            card("Queue growth in the period", html.Div(id=f"{PAGE}-backlog"), wide=True),
            dcc.Store(id=f"{PAGE}-params", data=params),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The page's callbacks, on this app only."""
    outputs = [
        Output(f"{PAGE}-clocks", "children"),
        Output(f"{PAGE}-lag-trend", "figure"),
        Output(f"{PAGE}-lag", "children"),
        Output(f"{PAGE}-drift-chart", "figure"),
        Output(f"{PAGE}-drift", "children"),
        Output(f"{PAGE}-backlog-chart", "figure"),
        Output(f"{PAGE}-backlog", "children"),
        Output(f"{PAGE}-facility", "options"),
        Output(f"{PAGE}-updated", "children"),
    ]

    @app.callback(*outputs, Input(f"{PAGE}-params", "data"), Input("tick", "n_intervals"))
    def refresh(params: dict[str, str] | None, _tick: int | None) -> tuple[Any, ...]:
        params = params or {}
        now = ctx.clock()
        facility = params.get("facility") or None
        back, bucket = queries.period(params.get("period") or "24h")
        since = now - back
        try:
            trend = queries.hop_lag_over_time(
                store=ctx.store, now=now, since=since, bucket=bucket, facility=facility
            )
            lag = queries.hop_lag(store=ctx.store, since=since, facility=facility)
            drift = queries.drift(store=ctx.store, now=now, facility=facility, limit=25)
            known = queries.dimensions(store=ctx.store)["facility"]
            queues = backlog.backlog(
                store=ctx.store,
                now=now,
                since=since,
                bucket=bucket,
                facilities=[*known, *ctx.zones],
                facility=facility,
            )
        except TowerError as exc:
            blank = figures.empty("No data: see the message above.")
            return (
                notice(exc.detail, kind="error"),
                blank,
                None,
                blank,
                None,
                blank,
                None,
                no_update,
                updated(now),
            )
        facilities = sorted({*known, *ctx.zones})
        return (
            _clocks(ctx, [facility] if facility else facilities, now),
            figures.hop_lag_over_time(trend, zones=ctx.zones, now=now),
            _lag_table(lag),
            figures.drift_bars(drift),
            _drift_table(ctx, drift),
            charts.queue_backlog(queues, zones=ctx.zones, now=now),
            _backlog_table(ctx, backlog.growth(queues), now),
            [{"label": f, "value": f} for f in facilities],
            updated(now),
        )

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input(f"{PAGE}-facility", "value"),
        Input(f"{PAGE}-period", "value"),
        prevent_initial_call=True,
    )
    def keep_in_url(facility: str | None, period: str | None) -> str:
        return search_of({"facility": facility, "period": period})


def _clocks(ctx: Context, facilities: list[str], now: datetime) -> list[Component]:
    return [
        html.Div(
            className="kpi clock",
            children=[
                html.Span(facility, className="kpi-label"),
                html.Span(f"{now.astimezone(ctx.zone(facility)):%H:%M}", className="kpi-value"),
                html.Span(
                    f"{ctx.zone(facility).key} · {now.astimezone(ctx.zone(facility)):%Z}",
                    className="kpi-sub",
                ),
            ],
        )
        for facility in facilities
    ]


def _lag_table(rows: list[dict[str, Any]]) -> Component:
    return table(
        ["facility", "hop", "stages", "hops", "p50", "p95", "max"],
        [
            [
                row["facility"],
                f"{row['from_system']} -> {row['to_system']}",
                f"{row['from_stage']} -> {row['to_stage']}",
                row["hops"],
                fmt.duration(row["p50_seconds"]),
                fmt.duration(row["p95_seconds"]),
                fmt.duration(row["max_seconds"]),
            ]
            for row in rows
        ],
        empty="No inventory hops in this period. Inventory changes appear here once the WMS, "
        "middleware and ERP report them with a shared inventory_change key.",
        id=f"{PAGE}-lag-rows",
    )


def _drift_table(ctx: Context, rows: list[dict[str, Any]]) -> Component:
    return table(
        ["SKU", "facility", "gap", "positions", "since (local)", "for"],
        [
            [
                row["sku"],
                row["facility"],
                f"{row['drift']:g}",
                ", ".join(f"{p['system']} {p['on_hand']:g}" for p in row["positions"]),
                fmt.moment(row["since"], ctx.zone(row["facility"])),
                fmt.duration(row["age_seconds"]),
            ]
            for row in rows
        ],
        empty="No drift: WMS, ERP and channels report the same stock for every SKU.",
        id=f"{PAGE}-drift-rows",
    )


def _backlog_table(ctx: Context, rows: list[dict[str, Any]], now: datetime) -> Component:
    return table(
        ["facility", "queue", "broker", "depth", "growth", "oldest message", "local time"],
        [
            [
                row["facility"] or "shared",
                row["queue"] + (" (dead letters)" if row["dead_letter"] else ""),
                f"{row['broker']} {row['vhost']}".strip(),
                f"{row['depth']:,}",
                f"{row['growth']:+,}",
                fmt.duration(row["oldest_age_seconds"]),
                f"{now.astimezone(ctx.zone(row['facility'])):%H:%M %Z}" if row["facility"] else "–",
            ]
            for row in rows
        ],
        empty="No queue samples in this period. Queues appear here once the tower polls "
        "RabbitMQ or Prometheus, or samples are posted (see docs/queues.md).",
        row_classes=["error" if row["dead_letter"] and row["growth"] > 0 else "" for row in rows],
        id=f"{PAGE}-backlog-rows",
    )
