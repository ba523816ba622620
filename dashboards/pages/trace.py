"""Trace search: where is this order, whatever ID the customer gave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component

from dashboards import figures, fmt, queries, telemetry
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
    def submit(submits: int | None, clicks: int | None, q: str | None) -> Any:
        if not (submits or clicks):
            # A search box re-rendered by a link's navigation is not a search: answering it
            # with ?q= alone would drop the journey (&j=) the link chose.
            return no_update
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
    if journey is not None:
        journey["logs"] = telemetry.journey_logs(
            store=ctx.store,
            event_ids=[e["event_id"] for e in journey["events"]],
            trace_ids=[s["trace_id"] for s in journey["spans"]],
        )
        journey["siblings"] = telemetry.siblings(store=ctx.store, journey_id=journey["journey_id"])
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
        card("Related and neighbouring journeys", _related(ctx, journey), wide=True),
        card(
            "Raw telemetry",
            dcc.Tabs(
                id=f"{PAGE}-tabs",
                children=[
                    dcc.Tab(
                        label=f"Events ({len(journey['events'])})",
                        value="events",
                        id=f"{PAGE}-tab-events",
                        children=_events(journey, zone),
                    ),
                    dcc.Tab(
                        label=f"Spans ({len(journey['spans'])})",
                        value="spans",
                        id=f"{PAGE}-tab-spans",
                        children=_spans(journey, zone),
                    ),
                    dcc.Tab(
                        label=f"Logs ({len(journey['logs'])})",
                        value="logs",
                        id=f"{PAGE}-tab-logs",
                        children=_logs(journey, zone),
                    ),
                ],
                value="events",
            ),
            wide=True,
        ),
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
    def link(row: dict[str, Any]) -> Component:
        return dcc.Link(row["label"], href=ctx.trace(row["label"], j=str(row["journey_id"])))

    rows = [
        [row["relation"].replace("_", " "), link(row), row["kind"], row["stage"], row["state"]]
        for row in journey["related"]
    ]
    rows += [  # other journeys on the same shipment or invoice
        [f"same {row['via_kind']} ({row['via_label']})", link(row), row["kind"], row["stage"],
         row["state"]]
        for row in journey.get("siblings", [])
    ]  # fmt: skip
    return table(
        ["relation", "journey", "kind", "stage", "state"],
        rows,
        empty="No linked journeys (shipments, invoices or orders that reference this one).",
        id=f"{PAGE}-related",
    )


def _spans(journey: dict[str, Any], zone: Any) -> Component:
    spans = journey["spans"]
    return table(
        ["start", "service", "span", "kind", "took", "status", "trace"],
        [
            [
                fmt.moment(s["start_time"], zone),
                s["service_name"],
                s["name"],
                s["kind"],
                _took(s["duration_ms"]),
                s["status_message"] or s["status_code"],
                html.A(
                    s["trace_id"][:12], href=f"/api/v1/traces/{s['trace_id']}", title=s["trace_id"]
                ),
            ]
            for s in spans
        ],
        empty="No spans: the systems on this journey send no OpenTelemetry traces with its "
        "keys (see docs/opentelemetry.md).",
        row_classes=["error" if s["status_code"] == "ERROR" else "" for s in spans],
        id=f"{PAGE}-spans",
    )


def _took(ms: float | None) -> str:
    """A span's duration: milliseconds under a second (most spans), else as durations read."""
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else fmt.duration(ms / 1000)


def _logs(journey: dict[str, Any], zone: Any) -> Component:
    logs = journey["logs"]
    return table(
        ["time", "source", "level", "message", "trace", "event"],
        [
            [
                fmt.moment(r["time"], zone),
                r["source"],
                r["severity_text"] or str(r["severity_number"]),
                (r["body"] or "")[:300],
                (r["trace_id"] or "")[:12],
                "yes" if r["derived_event_id"] else "",
            ]
            for r in logs
        ],
        empty="No log records: none carried this journey's keys or ran in its traces "
        "(see docs/logs.md).",
        row_classes=["error" if r["severity_number"] >= 17 else "" for r in logs],
        id=f"{PAGE}-logs",
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
