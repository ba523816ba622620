"""Exceptions: the inbox by owner, one exception's journeys and raw messages, replay, KPIs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from dash import ctx as triggered
from dash.development.base_component import Component

from dashboards import fmt
from dashboards.actions import acting_as
from dashboards.components import Context, card, header, notice, table, updated, who_acts
from exceptions import actions, replay, service, workflow
from tower.exceptions import TowerError

TITLE = "Exceptions"
PAGE = "exc"
KPI_WINDOW = timedelta(hours=24)
STATUSES = ("open", "acknowledged", "in_progress", "resolved", "replayed")
ACTIVE = "active"  # the status filter's default: open, acknowledged or in progress


def layout(ctx: Context, params: dict[str, str]) -> Component:  # noqa: ARG001 (every page's)
    """Filters and who is acting; the inbox and the drill-down arrive through callbacks."""
    return html.Div(
        [
            header(
                "Exceptions",
                "What failed, who owns it, which orders it holds up, and can it be replayed?",
                page_id=PAGE,
            ),
            html.Div(
                className="filters",
                children=[
                    who_acts(PAGE, params, placeholder="who acts"),
                    html.Label(
                        [
                            html.Span("Status"),
                            dcc.Dropdown(
                                id=f"{PAGE}-status",
                                options=[{"label": "active", "value": ACTIVE}]
                                + [{"label": s.replace("_", " "), "value": s} for s in STATUSES],
                                value=params.get("status", ACTIVE),
                                placeholder="all",
                            ),
                        ]
                    ),
                ],
            ),
            html.Div(id=f"{PAGE}-action"),
            card("Inbox by owner", html.Div(id=f"{PAGE}-inbox"), wide=True),
            card("Exception", html.Div(id=f"{PAGE}-detail"), wide=True),
            card("Last 24 hours by domain", html.Div(id=f"{PAGE}-kpis"), wide=True),
            card("Dead-letter queues", html.Div(id=f"{PAGE}-queues"), wide=True),
            dcc.Store(id=f"{PAGE}-selected", data=_int(params.get("id"))),
            dcc.Store(id=f"{PAGE}-plan", data=None),  # the replay plan awaiting confirmation
            dcc.Store(id=f"{PAGE}-done", data=0),  # bumped by each action: refreshes the page
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    """The page's callbacks, on this app only."""

    @app.callback(
        Output(f"{PAGE}-inbox", "children"),
        Output(f"{PAGE}-kpis", "children"),
        Output(f"{PAGE}-queues", "children"),
        Output(f"{PAGE}-updated", "children"),
        Input(f"{PAGE}-status", "value"),
        Input("tick", "n_intervals"),
        Input(f"{PAGE}-done", "data"),
    )
    def refresh(status: str | None, _tick: int | None, _done: int | None) -> tuple[Any, ...]:
        now = ctx.clock()
        try:
            items = service.list_exceptions(
                store=ctx.store,
                status=None if status in (None, ACTIVE) else status,
                limit=500,
            )
            kpis = service.kpis(store=ctx.store, since=now - KPI_WINDOW, now=now)
            queues = service.dead_letter_queues(store=ctx.store, now=now)
        except TowerError as exc:
            return notice(exc.detail, kind="error"), None, None, updated(now)
        if status == ACTIVE:
            items = [i for i in items if i["status"] in ("open", "acknowledged", "in_progress")]
        return _inbox(items, now), _kpis(kpis), _queues(queues), updated(now)

    @app.callback(
        Output(f"{PAGE}-detail", "children"),
        Input(f"{PAGE}-selected", "data"),
        Input(f"{PAGE}-plan", "data"),
        Input(f"{PAGE}-done", "data"),
    )
    def detail(selected: int | None, plan: dict[str, Any] | None, _done: int | None) -> Any:
        if selected is None:
            return notice("Pick an exception in the inbox to see its journeys and messages.")
        try:
            found = service.exception_detail(store=ctx.store, exception_id=selected)
        except TowerError as exc:
            return notice(exc.detail, kind="error")
        return _detail(ctx, found, plan if plan and plan["exception_id"] == selected else None)

    @app.callback(
        Output(f"{PAGE}-action", "children"),
        Output(f"{PAGE}-done", "data"),
        Output(f"{PAGE}-selected", "data"),
        Output(f"{PAGE}-plan", "data"),
        Input({"type": f"{PAGE}-view", "index": ALL}, "n_clicks"),
        Input({"type": f"{PAGE}-ack", "index": ALL}, "n_clicks"),
        Input({"type": f"{PAGE}-take", "index": ALL}, "n_clicks"),
        Input({"type": f"{PAGE}-resolve", "index": ALL}, "n_clicks"),
        Input({"type": f"{PAGE}-replay", "index": ALL}, "n_clicks"),
        Input({"type": f"{PAGE}-confirm", "index": ALL}, "n_clicks"),
        State(f"{PAGE}-who", "value"),
        State(f"{PAGE}-plan", "data"),
        State(f"{PAGE}-done", "data"),
        prevent_initial_call=True,
    )
    def act(*args: Any) -> tuple[Any, Any, Any, Any]:
        who, plan, done = args[-3:]
        # buttons drawn anew by a refresh fire this callback too: only a click counts
        if not isinstance(triggered.triggered_id, dict) or not any(
            item["value"] for item in triggered.triggered
        ):
            return no_update, no_update, no_update, no_update
        kind = triggered.triggered_id["type"].removeprefix(f"{PAGE}-")
        exception_id = int(triggered.triggered_id["index"])
        if kind == "view":
            return None, no_update, exception_id, None
        try:
            by = acting_as(who)
        except ValueError as exc:
            return notice(str(exc), kind="error"), no_update, exception_id, no_update
        now = ctx.clock()
        new_plan = None
        try:
            if kind == "ack":
                workflow.move(store=ctx.store, exception_id=exception_id, status="acknowledged",
                             by=by, now=now, note=None)  # fmt: skip
                message = f"Exception {exception_id} acknowledged by {by}."
            elif kind == "take":
                workflow.assign(store=ctx.store, exception_id=exception_id, owner=None,
                               assignee=by, by=by, now=now)  # fmt: skip
                message = f"Exception {exception_id} assigned to {by}."
            elif kind == "resolve":
                workflow.move(store=ctx.store, exception_id=exception_id, status="resolved",
                             by=by, now=now, note=None)  # fmt: skip
                message = f"Exception {exception_id} resolved by {by}."
            elif kind == "replay":
                new_plan = replay.plan(store=ctx.store, exception_id=exception_id,
                                       message_ids=None, by=by, now=now,
                                       config=replay.config_for(ctx.store))  # fmt: skip
                new_plan = {k: new_plan[k] for k in ("token", "exception_id", "to_replay",
                                                     "already_replayed")}  # fmt: skip
                message = (
                    f"Replay of exception {exception_id}: {new_plan['to_replay']} message(s) "
                    "to publish. Confirm below."
                )
            else:  # confirm
                if not plan or plan["exception_id"] != exception_id:
                    raise ValueError("Ask for a replay first; then confirm it.")
                result = replay.confirm(store=ctx.store, exception_id=exception_id,
                                        token=plan["token"], by=by, clock=ctx.clock,
                                        config=replay.config_for(ctx.store))  # fmt: skip
                message = (
                    f"Replayed {result['published']} message(s) of exception {exception_id}"
                    f" ({result['already_replayed']} already replayed, "
                    f"{result['unroutable'] + result['failed']} not published)."
                )
        except ValueError as exc:
            return notice(str(exc), kind="error"), no_update, exception_id, no_update
        except TowerError as exc:  # gone, a refused move or replay, storage trouble
            return notice(exc.detail, kind="error"), no_update, exception_id, None
        return notice(message), (done or 0) + 1, exception_id, new_plan


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _ago(when: datetime, now: datetime) -> str:
    seconds = (now - when).total_seconds()
    # a source's clock ahead of the tower's: say when, not a negative age
    return f"{fmt.duration(seconds)} ago" if seconds >= 0 else fmt.moment(when)


def _button(label: str, kind: str, exception_id: int) -> Component:
    return html.Button(label, id={"type": f"{PAGE}-{kind}", "index": exception_id}, className=kind)


def _inbox(items: list[dict[str, Any]], now: datetime) -> Component:
    if not items:
        return notice(
            "No exceptions here. Error events and dead letters (TOWER_DEAD_LETTER_QUEUES) "
            "become exceptions as the tower sees them."
        )
    owners: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        owners.setdefault(item["owner"], []).append(item)
    sections = []
    for owner, rows in sorted(owners.items()):
        sections.append(
            html.Div(
                className="owner",
                id=f"{PAGE}-owner-{owner}",
                children=[
                    html.H3(f"{owner} ({len(rows)})"),
                    table(
                        ["#", "severity", "status", "exception", "count", "last seen", "who", ""],
                        [
                            [
                                r["exception_id"],
                                r["severity"],
                                html.Span(
                                    r["status"].replace("_", " "),
                                    className=f"badge exc-{r['status']}",
                                ),  # fmt: skip
                                html.Span(r["title"], title=r["error"]),
                                r["occurrences"],
                                _ago(r["last_seen_at"], now),
                                r["assignee"] or "",
                                html.Span(
                                    className="actions",
                                    children=[
                                        _button("Open", "view", r["exception_id"]),
                                        _button("Ack", "ack", r["exception_id"]),
                                        _button("Take", "take", r["exception_id"]),
                                    ],
                                ),
                            ]
                            for r in rows
                        ],
                        empty="",
                        row_classes=[f"exc-row-{r['exception_id']}" for r in rows],
                    ),
                ],
            )
        )
    return html.Div(sections, id=f"{PAGE}-inbox-owners")


def _detail(ctx: Context, found: dict[str, Any], plan: dict[str, Any] | None) -> Component:
    eid = found["exception_id"]
    facts = [
        ("status", found["status"].replace("_", " ")),
        ("owner", found["owner"] + (f" / {found['assignee']}" if found["assignee"] else "")),
        ("category / domain", f"{found['category']} / {found['domain']}"),
        ("severity", found["severity"]),
        ("source", found["source"] + (f" ({found['place']})" if found["place"] else "")),
        ("error", found["error"]),
        ("occurrences", str(found["occurrences"])),
        (
            "first / last seen",
            f"{fmt.moment(found['first_seen_at'])} / {fmt.moment(found['last_seen_at'])}",
        ),  # fmt: skip
    ]
    journeys = table(
        ["journey", "kind", "stage", "state", "facility"],
        [
            [
                dcc.Link(j["label"], href=ctx.trace(j["label"])),
                j["kind"],
                j["stage"],
                j["state"],
                j["facility"],
            ]
            for j in found["journeys"]
        ],
        empty="No journey found for this exception's keys (yet).",
        id=f"{PAGE}-journeys",
    )
    letters = table(
        ["message id", "correlation", "to", "reason", "deaths", "replayed", "payload"],
        [
            [
                d["message_id"],
                d["correlation_id"],
                f"{d['exchange'] or '(default)'} / {d['routing_key']}",
                d["reason"],
                d["deaths"],
                d["replay_outcome"] or ("yes" if d["replayed"] else ""),
                html.Code(d["payload"][:300]),
            ]
            for d in found["dead_letters"]
        ],
        empty="No dead letters: nothing to replay.",
        id=f"{PAGE}-letters",
    )
    buttons = [_button("Resolve", "resolve", eid)]
    http_actions = replay.config_for(ctx.store).actions
    if found["dead_letters"] or actions.action_for(found, http_actions) is not None:
        buttons.append(_button("Replay", "replay", eid))
    if plan is not None:
        buttons.append(_button(f"Confirm replay of {plan['to_replay']} message(s)", "confirm", eid))
    history = table(
        ["when", "who", "what", "detail"],
        [
            [
                fmt.moment(h["happened_at"]),
                h["actor"],
                h["action"].replace("_", " "),
                ", ".join(f"{k}: {v}" for k, v in h["detail"].items() if v is not None),
            ]  # fmt: skip
            for h in found["history"]
        ],
        empty="No history.",
        id=f"{PAGE}-history",
    )
    return html.Div(
        id=f"{PAGE}-detail-{eid}",
        children=[
            html.H3(f"#{eid} {found['title']}"),
            html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))]),
            html.Div(buttons, className="actions"),
            html.H4("Journeys"),
            journeys,
            html.H4("Dead letters"),
            letters,
            html.H4("History"),
            history,
        ],
    )


def _kpis(kpis: dict[str, Any]) -> Component:
    rate = kpis["replay_success_rate"]
    return html.Div(
        [
            table(
                ["domain", "failures", "per hour", "exceptions", "open", "to ack", "to resolve"],
                [
                    [
                        d["domain"],
                        d["occurrences"],
                        f"{d['per_hour']:.1f}",
                        d["exceptions"],
                        d["open_now"],
                        fmt.duration(d["ack_seconds"]),
                        fmt.duration(d["resolve_seconds"]),
                    ]
                    for d in kpis["domains"]
                ],
                empty="No exceptions in the last 24 hours.",
                id=f"{PAGE}-kpi-rows",
            ),
            html.P(
                "Replay success: "
                + ("no replays" if rate is None else f"{100 * rate:.0f}%")
                + "".join(f" · {k} {v}" for k, v in sorted(kpis["replays"].items())),
                id=f"{PAGE}-replay-rate",
            ),
        ]
    )


def _queues(queues: list[dict[str, Any]]) -> Component:
    return table(
        ["queue", "broker", "messages", "oldest", "exceptions"],
        [
            [
                q["queue"],
                f"{q['broker']} {q['vhost']}",
                q["messages"],
                fmt.duration(q["oldest_age_seconds"]),
                q["exceptions"],
            ]
            for q in queues
        ],
        empty="No dead-letter queue is read. Name them in TOWER_DEAD_LETTER_QUEUES.",
        id=f"{PAGE}-dlq-rows",
    )
