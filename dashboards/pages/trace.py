"""Trace search: where is this order, whatever ID the customer gave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component

from dashboards import figures, fmt, queries
from dashboards.components import Context, badge, card, header, notice, search_of, table, updated
from tower.exceptions import TowerError

TITLE = "Trace search"
PAGE = "trace"
LIST_LIMIT = 25
EXAMPLES = ("W-1001", "status:stalled facility:DC-EAST", "1Z*", "anomaly:error kind:order")


def layout(ctx: Context, params: dict[str, str]) -> Component:
    """The search box (filled from the URL) and the place for results."""
    return html.Div(
        [
            header(
                "Trace search",
                "Where is this order? Any ID from any system, or a query.",
                page_id=PAGE,
            ),
            html.Div(
                className="searchbar",
                children=[
                    dcc.Input(
                        id=f"{PAGE}-q",
                        type="search",
                        value=params.get("q", ""),
                        placeholder="W-1001, 4500012, 1Z999AA1 or status:stalled facility:DC-EAST",
                        autoFocus=True,
                        debounce=False,
                        spellCheck=False,
                    ),
                    html.Button("Search", id=f"{PAGE}-go", n_clicks=0),
                ],
            ),
            html.P(
                className="hint",
                children=[
                    "Try ",
                    *[
                        item
                        for example in EXAMPLES
                        for item in (dcc.Link(example, href=ctx.trace(example)), " ")
                    ],
                    "· fields: kind, stage, status, facility, customer, channel, source, system, "
                    "anomaly; OR, -term and * work.",
                ],
            ),
            dcc.Loading(html.Div(id=f"{PAGE}-body"), type="dot"),
            dcc.Store(id=f"{PAGE}-params", data=params),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The page's callbacks, on this app only."""

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input(f"{PAGE}-q", "n_submit"),
        Input(f"{PAGE}-go", "n_clicks"),
        State(f"{PAGE}-q", "value"),
        prevent_initial_call=True,
    )
    def submit(_submits: int | None, _clicks: int | None, q: str | None) -> Any:
        text = (q or "").strip()
        return search_of({"q": text}) if text else no_update

    @app.callback(
        Output(f"{PAGE}-body", "children"),
        Output(f"{PAGE}-updated", "children"),
        Input(f"{PAGE}-params", "data"),
        Input("tick", "n_intervals"),
    )
    def results(params: dict[str, str] | None, _tick: int | None) -> tuple[Component, str]:
        params = params or {}
        now = ctx.clock()
        q = (params.get("q") or "").strip()
        if not q:
            return notice(
                "Type any ID (order, delivery, invoice, tracking, PO, SKU change) "
                "or a query, then press Enter."
            ), updated(now)
        try:
            return _results(ctx, q, params.get("j"), now), updated(now)
        except TowerError as exc:
            return notice(exc.detail, kind="error"), updated(now)


def _results(ctx: Context, q: str, chosen: str | None, now: datetime) -> Component:
    found = queries.search(store=ctx.store, q=q, now=now, limit=LIST_LIMIT)
    if not found:
        return notice(
            f"Nothing found for {q}. IDs match exactly (use * for a wildcard, e.g. W-10*); "
            "a journey appears a few seconds after its first event.",
        )
    ids = [str(row["journey_id"]) for row in found]
    # An invoice or shipment ID also finds the orders it references: show an order first
    orders = [str(row["journey_id"]) for row in found if row["kind"] == "order"]
    selected = chosen if chosen in ids else (orders or ids)[0]
    journey = queries.journey(store=ctx.store, journey_id=int(selected), now=now)
    parts: list[Component] = []
    if len(found) > 1:
        parts.append(
            card(
                f"{len(found)} journeys found"
                + (
                    f" (the newest {LIST_LIMIT}; narrow the query)"
                    if len(found) >= LIST_LIMIT
                    else ""
                ),
                _result_list(ctx, q, found, selected),
                wide=True,
            )
        )
    if journey is not None:
        parts.extend(_detail(ctx, journey, now))
    return html.Div(parts)


def _result_list(ctx: Context, q: str, rows: list[dict[str, Any]], selected: str) -> Component:
    return table(
        ["journey", "kind", "status", "stage", "facility", "customer", "last event"],
        [
            [
                dcc.Link(row["label"], href=ctx.trace(q, j=str(row["journey_id"]))),
                row["kind"],
                badge(row["status"]),
                row["stage"],
                row["facility"],
                row["customer"],
                fmt.moment(row["last_event_at"], ctx.zone(row["facility"])),
            ]
            for row in rows
        ],
        empty="",
        row_classes=["selected" if str(r["journey_id"]) == selected else "" for r in rows],
        id=f"{PAGE}-results",
    )


def _detail(ctx: Context, journey: dict[str, Any], now: datetime) -> list[Component]:
    zone = ctx.zone(journey["facility"])
    ids = ", ".join(f"{ns}={'/'.join(values)}" for ns, values in sorted(journey["keys"].items()))
    facts = [
        ("kind", journey["kind"]),
        ("stage", journey["stage"]),
        ("in stage since", fmt.moment(journey["stage_entered_at"], zone)),
        (
            "next",
            f"{journey['next_stage']} by {fmt.moment(journey['next_due_at'], zone)}"
            if journey["next_stage"] and journey["next_due_at"]
            else "–",
        ),
        ("facility", f"{journey['facility']} ({zone.key})" if journey["facility"] else "–"),
        ("customer", journey["customer"] or "–"),
        ("channel", journey["channel"] or "–"),
        ("value", fmt.amounts([{"currency": journey["currency"], "value": journey["value"]}])),
        ("IDs", ids),
    ]
    summary = html.Div(
        id=f"{PAGE}-journey",
        className="journey-head",
        children=[
            html.H2([html.Span(journey["label"], className="label"), badge(journey["status"])]),
            html.Dl([item for name, value in facts for item in (html.Dt(name), html.Dd(value))]),
        ],
    )
    return [
        summary,
        card(
            "Timeline across systems",
            dcc.Graph(
                id=f"{PAGE}-swimlane",
                figure=figures.swimlane(journey, now=now),
                config={"displayModeBar": False},
            ),
            wide=True,
        ),
        html.Div(
            className="cards",
            children=[
                card("Stages and hop latencies", _stages(journey, zone)),
                card("Anomalies", _anomalies(journey, zone)),
            ],
        ),
        card("Related journeys", _related(ctx, journey), wide=True),
        card(f"Events ({len(journey['events'])})", _events(journey, zone), wide=True),
    ]


def _stages(journey: dict[str, Any], zone: Any) -> Component:
    return table(
        ["stage", "entered", "system", "hop", "took"],
        [
            [
                visit["stage"],
                fmt.moment(visit["entered_at"], zone),
                visit["system"],
                f"{visit['from_system']} -> {visit['system']}" if visit["from_system"] else "",
                fmt.duration(visit["latency_seconds"]),
            ]
            for visit in journey["history"]
        ],
        empty="No stage reached yet (its events belong to no stage of the model).",
        id=f"{PAGE}-stages",
    )


def _anomalies(journey: dict[str, Any], zone: Any) -> Component:
    return table(
        ["when", "kind", "detail"],
        [
            [fmt.moment(a["at"], zone), html.Span(a["kind"], className="anomaly"), a["detail"]]
            for a in journey["anomalies"]
        ],
        empty="None: every step arrived once, in order, on time.",
        id=f"{PAGE}-anomalies",
    )


def _related(ctx: Context, journey: dict[str, Any]) -> Component:
    return table(
        ["relation", "journey", "kind", "stage", "state"],
        [
            [
                row["relation"].replace("_", " "),
                dcc.Link(row["label"], href=ctx.trace(row["label"], j=str(row["journey_id"]))),
                row["kind"],
                row["stage"],
                row["state"],
            ]
            for row in journey["related"]
        ],
        empty="No linked journeys (shipments, invoices or orders that reference this one).",
        id=f"{PAGE}-related",
    )


def _events(journey: dict[str, Any], zone: Any) -> Component:
    flagged = {a["seq"] for a in journey["anomalies"] if a.get("seq") is not None}
    events = journey["events"]
    return table(
        ["occurred", "received", "system", "source", "type", "status", "keys", "via"],
        [
            [
                fmt.moment(e["occurred_at"], zone),
                fmt.moment(e["received_at"], zone),
                e["system"],
                e["source"],
                e["type"],
                e["error"] or e["status"],
                ", ".join(f"{k}={v}" for k, v in e["keys"].items()),
                "" if e["via"] is None else f"journey {e['via']}",
            ]
            for e in events
        ],
        empty="No events.",
        row_classes=[
            "error" if e["status"] == "error" else "flagged" if e["seq"] in flagged else ""
            for e in events
        ],
        id=f"{PAGE}-events",
    )
