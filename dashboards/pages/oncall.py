"""On-call: what is firing, what is burning, which queue is backing up, what is refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from dash import ctx as triggered
from dash.development.base_component import Component

from dashboards import actions, figures, fmt, queries, tower_panel
from dashboards.components import Context, card, graph, header, notice, table, updated, who_acts
from tower.exceptions import TowerError

TITLE = "On-call"
PAGE = "oncall"
ERROR_WINDOW = timedelta(hours=1)


def layout(ctx: Context, params: dict[str, str]) -> Component:  # noqa: ARG001 (every page's)
    """Who is acting and for how long a silence lasts; the data arrives through the refresh."""
    return html.Div(
        [
            header(
                "On-call",
                "What is firing, which SLO is burning its budget, which queue is backing up, "
                "and what is the collector refusing?",
                page_id=PAGE,
            ),
            html.Div(
                className="filters",
                children=[
                    who_acts(PAGE, params, placeholder="who acks or silences"),
                    html.Label(
                        [
                            html.Span("Silence for"),
                            dcc.Dropdown(
                                id=f"{PAGE}-duration",
                                options=[{"label": d, "value": d} for d in actions.SILENCE_FOR],
                                value="1h",
                                clearable=False,
                            ),
                        ]
                    ),
                ],
            ),
            html.Div(id=f"{PAGE}-action"),
            card("Firing and pending alerts", html.Div(id=f"{PAGE}-alerts"), wide=True),
            card(
                "SLO error budget and burn rates",
                graph(f"{PAGE}-burn"),
                html.Div(id=f"{PAGE}-slos"),
                wide=True,
            ),
            card("Queues: depth and oldest message", html.Div(id=f"{PAGE}-queues")),
            card("Error rate by source, last hour", graph(f"{PAGE}-errors")),
            card("Recent collector rejects", html.Div(id=f"{PAGE}-rejects"), wide=True),
            tower_panel.panel(PAGE),  # the tower's own health over time (dashboards/tower_panel.py)
            dcc.Store(id=f"{PAGE}-params", data=params),
            dcc.Store(id=f"{PAGE}-done", data=0),  # bumped by each action: refreshes the page
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The page's callbacks, on this app only."""
    tower_panel.register(app, ctx, PAGE)

    @app.callback(
        Output(f"{PAGE}-alerts", "children"),
        Output(f"{PAGE}-burn", "figure"),
        Output(f"{PAGE}-slos", "children"),
        Output(f"{PAGE}-queues", "children"),
        Output(f"{PAGE}-errors", "figure"),
        Output(f"{PAGE}-rejects", "children"),
        Output(f"{PAGE}-updated", "children"),
        Input(f"{PAGE}-params", "data"),
        Input("tick", "n_intervals"),
        Input(f"{PAGE}-done", "data"),
    )
    def refresh(_params: Any, _tick: int | None, _done: int | None) -> tuple[Any, ...]:
        now = ctx.clock()
        try:
            alerts = queries.open_alerts(store=ctx.store, now=now)
            slos = queries.slo_status(store=ctx.store)
            queues = queries.queue_latest(store=ctx.store)
            errors = queries.error_rates(store=ctx.store, now=now, since=now - ERROR_WINDOW)
            rejects = queries.recent_rejects(store=ctx.store)
        except TowerError as exc:
            blank = figures.empty("No data: see the message above.")
            return notice(exc.detail, kind="error"), blank, None, None, blank, None, updated(now)
        return (
            _alerts_table(alerts, now),
            figures.burn_rates(slos),
            _slo_table(slos),
            _queue_table(queues, now),
            figures.error_rates(errors),
            _rejects_table(rejects),
            updated(now),
        )

    @app.callback(
        Output(f"{PAGE}-action", "children"),
        Output(f"{PAGE}-done", "data"),
        Input({"type": f"{PAGE}-ack", "index": ALL}, "n_clicks"),
        Input({"type": f"{PAGE}-silence", "index": ALL}, "n_clicks"),
        State(f"{PAGE}-who", "value"),
        State(f"{PAGE}-duration", "value"),
        State(f"{PAGE}-done", "data"),
        prevent_initial_call=True,
    )
    def act(
        _acks: list[int | None],
        _silences: list[int | None],
        who: str | None,
        duration: str | None,
        done: int | None,
    ) -> tuple[Any, Any]:
        # buttons drawn anew by the refresh fire this callback too: only a click counts
        if not isinstance(triggered.triggered_id, dict) or not any(
            item["value"] for item in triggered.triggered
        ):
            return no_update, no_update
        kind, fingerprint = triggered.triggered_id["type"], triggered.triggered_id["index"]
        now = ctx.clock()
        try:
            if kind == f"{PAGE}-ack":
                acked = actions.ack(store=ctx.store, fingerprint=fingerprint, by=who, now=now)
                message = f"Acknowledged by {acked['acked_by']}."
            else:
                alert = next(
                    (
                        a
                        for a in queries.open_alerts(store=ctx.store, now=now)
                        if a["fingerprint"] == fingerprint
                    ),
                    None,
                )
                if alert is None:
                    raise ValueError("That alert is no longer pending or firing.")
                made = actions.silence(
                    store=ctx.store, labels=alert["labels"], by=who, duration=duration, now=now
                )
                message = (
                    f"Silenced {alert['alertname']} until {fmt.moment(made['ends_at'])} "
                    f"(silence {made['silence_id']})."
                )
        except ValueError as exc:  # what was typed or picked: say what to do
            return notice(str(exc), kind="error"), no_update
        except TowerError as exc:  # the alert is gone (AlertNotFound), or storage trouble
            return notice(exc.detail, kind="error"), no_update
        return notice(message), (done or 0) + 1


def _since(alert: dict[str, Any], now: datetime) -> Component:
    moment = alert["starts_at"] if alert["state"] == "firing" else alert["active_at"]
    parsed = fmt.parse_time(moment)
    age = (now - parsed).total_seconds() if parsed else None
    return html.Span(fmt.duration(age), title=fmt.moment(moment))


def _acked(alert: dict[str, Any]) -> str:
    if not alert["acked_by"]:
        return ""
    owner = alert["owner"] if alert["owner"] and alert["owner"] != alert["acked_by"] else None
    return f"{alert['acked_by']} at {fmt.moment(alert['acked_at'])}" + (
        f", owner {owner}" if owner else ""
    )


def _alerts_table(alerts: list[dict[str, Any]], now: datetime) -> Component:
    rows = []
    for alert in alerts:
        labels = {k: v for k, v in alert["labels"].items() if k not in ("alertname", "severity")}
        silenced = " (silenced)" if alert["silenced_by"] else ""
        rows.append(
            [
                html.Span(alert["state"] + silenced, className=f"badge alert-{alert['state']}"),
                html.Span(alert["alertname"], title=alert["summary"]),
                alert["labels"].get("severity", ""),
                ", ".join(f"{k}={v}" for k, v in sorted(labels.items())),
                _since(alert, now),
                _acked(alert),
                html.Span(
                    className="actions",
                    children=[
                        html.Button(
                            "Ack",
                            id={"type": f"{PAGE}-ack", "index": alert["fingerprint"]},
                            className="ack",
                        ),
                        html.Button(
                            "Silence",
                            id={"type": f"{PAGE}-silence", "index": alert["fingerprint"]},
                            className="silence",
                        ),
                    ],
                ),
            ]
        )
    return table(
        ["state", "alert", "severity", "labels", "since", "acked by", ""],
        rows,
        empty="Nothing is firing or pending. Alerts appear here when an SLA or SLO is "
        "breached (see GET /api/v1/sla).",
        row_classes=[f"alert-{a['state']}" for a in alerts],
        id=f"{PAGE}-alert-rows",
    )


def _percent(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{100 * value:.{digits}f}%"


def _burn(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _slo_table(slos: list[dict[str, Any]]) -> Component:
    return table(
        ["SLO", "objective", "SLI", "events", "budget left", "burn per window (long / short)"],
        [
            [
                slo["name"],
                _percent(slo["objective"], 2),
                _percent(slo["sli"], 2) or "no events",
                slo["events"],
                _percent(slo["budget_remaining"]),
                "; ".join(
                    f"{figures.window_name(w)}: {_burn(w['long_burn'])} / "
                    f"{_burn(w['short_burn'])}" + (" FIRING" if w["firing"] else "")
                    for w in slo["windows"]
                ),
            ]
            for slo in slos
        ],
        empty="No SLO has been evaluated yet; the SLA cycle runs every TOWER_SLA_EVERY.",
        id=f"{PAGE}-slo-rows",
    )


def _queue_table(queues: list[dict[str, Any]], now: datetime) -> Component:
    return table(
        ["queue", "broker", "depth", "oldest", "consumers", "sampled"],
        [
            [
                q["queue"] + (" (dead letters)" if q["dead_letter"] else ""),
                q["broker"] + (f" {q['vhost']}" if q["vhost"] else ""),
                q["depth"],
                fmt.duration(q["oldest_age_seconds"]),
                q["consumers"],
                f"{fmt.duration((now - q['sampled_at']).total_seconds())} ago",
            ]
            for q in queues
        ],
        empty="No queue samples yet. Point the RabbitMQ poller or a Prometheus push at the "
        "tower, or POST /api/v1/queues/samples.",
        id=f"{PAGE}-queue-rows",
    )


def _rejects_table(rejects: list[dict[str, Any]]) -> Component:
    return table(
        ["received", "reason", "item", "raw"],
        [
            [
                fmt.moment(r["received_at"]),
                r["reason"],
                r["batch_index"] if r["line"] is None else f"line {r['line']}",
                html.Code(r["raw"]),
            ]
            for r in rejects
        ],
        empty="The collector has refused nothing.",
        id=f"{PAGE}-reject-rows",
    )
