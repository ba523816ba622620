"""Process map: how journeys really flow through the stages, how many, and how fast."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, dcc, html, no_update
from dash.development.base_component import Component

from dashboards import figures, fmt, queries
from dashboards.components import (
    Context,
    card,
    filter_bar,
    graph,
    guarded,
    header,
    search_of,
    table,
    updated,
)
from tower.exceptions import TowerError

TITLE = "Process map"
PAGE = "proc"
FILTERS = ("kind", "facility", "channel", "period")


def layout(ctx: Context, params: dict[str, str]) -> Component:
    """Filters from the URL; the data arrives through the refresh callback."""
    return html.Div(
        [
            header(
                "Process map",
                "How do journeys flow through the stages, how many take each hop, how long "
                "does it take, and which paths are most common?",
                page_id=PAGE,
            ),
            filter_bar(
                PAGE,
                [
                    (
                        "kind",
                        "Journey kind",
                        [params.get("kind") or "order"],
                        params.get("kind") or "order",
                    ),
                    ("facility", "Facility", sorted(ctx.zones), params.get("facility")),
                    ("channel", "Channel", [], params.get("channel")),
                    ("period", "Started in", list(queries.PERIODS), params.get("period") or "7d"),
                ],
            ),
            card(
                "Stages and hops (width: journeys; hover for latency)",
                graph(f"{PAGE}-map"),
                wide=True,
            ),
            html.Div(
                className="cards",
                children=[
                    card("Funnel", graph(f"{PAGE}-funnel")),
                    card("Most frequent paths", html.Div(id=f"{PAGE}-variants")),
                ],
            ),
            card("Hops", html.Div(id=f"{PAGE}-hops"), wide=True),
            dcc.Store(id=f"{PAGE}-params", data=params),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The page's callbacks, on this app only."""
    outputs = [
        Output(f"{PAGE}-map", "figure"),
        Output(f"{PAGE}-funnel", "figure"),
        Output(f"{PAGE}-hops", "children"),
        Output(f"{PAGE}-kind", "options"),
        Output(f"{PAGE}-facility", "options"),
        Output(f"{PAGE}-channel", "options"),
        Output(f"{PAGE}-updated", "children"),
    ]

    @app.callback(*outputs, Input(f"{PAGE}-params", "data"), Input("tick", "n_intervals"))
    def refresh(params: dict[str, str] | None, _tick: int | None) -> tuple[Any, ...]:
        now = ctx.clock()
        cohort = _cohort(ctx, params, now)
        try:
            hops = queries.process_hops(**cohort)
            funnel = queries.process_funnel(**cohort, main_line=ctx.stages.get(cohort["kind"]))
            known = queries.dimensions(store=ctx.store)
        except TowerError as exc:
            return (figures.empty(exc.detail), *[no_update] * (len(outputs) - 1))
        facilities = sorted({*known["facility"], *ctx.zones})
        return (
            figures.process_sankey(hops, funnel),
            figures.funnel(funnel),
            _hops(hops),
            _options(known["kind"] or ["order"]),
            _options(facilities),
            _options(known["channel"]),
            updated(now),
        )

    # The paths are a query of their own (a sorted stage list per journey): a callback of
    # their own, answered beside the map's rather than after it.
    @app.callback(
        Output(f"{PAGE}-variants", "children"),
        Input(f"{PAGE}-params", "data"),
        Input("tick", "n_intervals"),
    )
    def paths(params: dict[str, str] | None, _tick: int | None) -> Component:
        cohort = _cohort(ctx, params, ctx.clock())
        return guarded(lambda: _variants(queries.variants(**cohort)))

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        *(Input(f"{PAGE}-{name}", "value") for name in FILTERS),
        prevent_initial_call=True,
    )
    def keep_in_url(*values: str | None) -> str:
        return search_of(dict(zip(FILTERS, values, strict=True)))


def _cohort(ctx: Context, params: dict[str, str] | None, now: datetime) -> dict[str, Any]:
    """The journeys the page's filters select, as the queries' keyword arguments."""
    params = params or {}
    back, _ = queries.period(params.get("period") or "7d")
    return {
        "store": ctx.store,
        "now": now,
        "since": now - back,
        "kind": params.get("kind") or "order",
        "facility": params.get("facility") or None,
        "channel": params.get("channel") or None,
    }


def _options(values: list[str]) -> list[dict[str, str]]:
    return [{"label": v, "value": v} for v in values]


def _variants(rows: list[dict[str, Any]]) -> Component:
    return table(
        ["path", "journeys", "share"],
        [[row["path"], row["journeys"], f"{row['share']:.0%}"] for row in rows],
        empty="No journeys for these filters in this period.",
        id=f"{PAGE}-variant-rows",
    )


def _hops(rows: list[dict[str, Any]]) -> Component:
    return table(
        ["from", "to", "journeys", "p50", "p95", "usual systems"],
        [
            [
                row["from_stage"],
                row["to_stage"],
                row["journeys"],
                fmt.duration(row["p50_seconds"]),
                fmt.duration(row["p95_seconds"]),
                row["systems"],
            ]
            for row in rows
        ],
        empty="No stage-to-stage hops for these filters in this period.",
        id=f"{PAGE}-hop-rows",
    )
