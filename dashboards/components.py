"""Pieces every page uses: the page context, headers, cards, tables, filters, notices."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from dash import dcc, html
from dash.development.base_component import Component

from dashboards import links
from tower.clock import Clock
from tower.db import Store
from tower.exceptions import TowerError

__all__ = [
    "Context",
    "badge",
    "card",
    "filter_bar",
    "graph",
    "guarded",
    "header",
    "notice",
    "params_of",
    "search_of",
    "table",
    "updated",
]

log = logging.getLogger(__name__)

Cell = Component | str | int | float | None


@dataclass(frozen=True, slots=True)
class Context:
    """What every page reads from: the store, the clock, the URL prefix, facility zones."""

    store: Store
    clock: Clock
    prefix: str
    zones: Mapping[str, ZoneInfo]
    stages: Mapping[str, list[str]]  # journey kind -> main-line stages, in order

    def href(self, path: str, **params: str | None) -> str:
        """A link to a page of the dashboards."""
        return links.href(self.prefix, path, **params)

    def trace(self, q: str, **params: str | None) -> str:
        """A link to the trace search for a query."""
        return self.href("trace", q=q, **params)

    def zone(self, facility: str | None) -> ZoneInfo:
        """The facility's time zone (UTC when unknown)."""
        return self.zones.get(facility or "", ZoneInfo("UTC"))


def params_of(search: str | None) -> dict[str, str]:
    """URL query parameters ('?q=W-1&j=3') as a dict."""
    return dict(parse_qsl((search or "").lstrip("?")))


def search_of(params: Mapping[str, str | None]) -> str:
    """The URL query for page parameters; empty values are left out."""
    kept = {name: value for name, value in params.items() if value}
    return f"?{urlencode(kept)}" if kept else ""


def header(title: str, question: str, *, page_id: str, extra: Cell = None) -> Component:
    """A page's title, the question it answers, and its last-updated time."""
    return html.Div(
        className="page-header",
        children=[
            html.Div([html.H1(title), html.P(question, className="question")]),
            html.Div([extra, html.Span(id=f"{page_id}-updated", className="updated")]),
        ],
    )


def who_acts(page_id: str, params: Mapping[str, str], *, placeholder: str) -> Component:
    """The "Your name" box of the pages that change things (used when sign-in is off; signed
    in, the pages act as the signed-in user: dashboards/actions.py)."""
    return html.Label(
        [
            html.Span("Your name"),
            dcc.Input(
                id=f"{page_id}-who",
                type="text",
                placeholder=placeholder,
                value=params.get("who", ""),
                spellCheck=False,
            ),
        ]
    )


def updated(now: datetime) -> str:
    """The visible last-updated line."""
    return f"updated {now.astimezone(UTC):%H:%M:%S} UTC"


def card(title: str, *children: Cell, wide: bool = False, **attrs: Any) -> Component:
    """A titled panel."""
    return html.Section(
        className="card wide" if wide else "card",
        children=[html.H2(title), *children],
        **attrs,
    )


def badge(status: str | None) -> Component:
    """A journey status as a coloured label."""
    name = status or "unknown"
    return html.Span(name.replace("_", " "), className=f"badge status-{name}")


def notice(message: str, *, kind: str = "info") -> Component:
    """An empty or error state that says what to do."""
    return html.Div(message, className=f"notice notice-{kind}", role="status")


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    empty: str,
    row_classes: Sequence[str] | None = None,
    **attrs: Any,
) -> Component:
    """A plain, readable table; `empty` is what to show when there are no rows."""
    if not rows:
        return notice(empty)
    body = [
        html.Tr(
            [html.Td(cell) for cell in row],
            className=row_classes[i] if row_classes else None,
        )
        for i, row in enumerate(rows)
    ]
    return html.Table(
        className="grid",
        children=[html.Thead(html.Tr([html.Th(c) for c in columns])), html.Tbody(body)],
        **attrs,
    )


Filter = tuple[str, str, list[str], str | None]


def graph(graph_id: str) -> Component:
    """A plotly graph without the mode bar; its figure comes from a callback."""
    blank = {"xaxis": {"visible": False}, "yaxis": {"visible": False}, "height": 220}
    return dcc.Graph(
        id=graph_id, config={"displayModeBar": False}, figure={"data": [], "layout": blank}
    )


def filter_bar(page_id: str, filters: Sequence[Filter]) -> Component:
    """Dropdowns (name, label, options, value) whose values the page keeps in the URL."""
    return html.Div(
        className="filters",
        children=[
            html.Label(
                [
                    html.Span(label),
                    dcc.Dropdown(
                        id=f"{page_id}-{name}",
                        options=[{"label": o, "value": o} for o in options],
                        value=value,
                        clearable=name not in ("kind", "period"),
                        placeholder="all",
                    ),
                ]
            )
            for name, label, options, value in filters
        ],
    )


def guarded(render: Callable[[], Component]) -> Component:
    """Render, or say why the store could not answer (bad query, storage trouble)."""
    try:
        return render()
    except TowerError as exc:
        log.warning("dashboard read failed: %s", exc.detail)
        return notice(str(exc.detail), kind="error")
