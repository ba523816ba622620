"""The Dash factory: one Dash app over one store and clock, with a router callback.

No Dash pages registry and no module-level app: every call builds an independent app whose
callbacks are registered on it alone, so several towers can live in one process (tests do).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, dcc, html
from dash.development.base_component import Component

from dashboards.components import Context, notice, params_of
from dashboards.pages import exceptions as exceptions_page
from dashboards.pages import executive, facilities, oncall, process, trace
from tower.clock import Clock
from tower.db import Store

__all__ = ["PAGES", "create_dash"]

ASSETS = Path(__file__).with_name("assets")

# path (relative to the prefix) -> page module; each has TITLE, layout(ctx, params), register()
PAGES: dict[str, ModuleType] = {
    "": executive,
    "facilities": facilities,
    "oncall": oncall,
    "process": process,
    "trace": trace,
    "exceptions": exceptions_page,
}
NAV = ("", "trace", "facilities", "process", "oncall", "exceptions")


def create_dash(
    *,
    store: Store,
    clock: Clock,
    prefix: str = "/ui/",
    zones: Mapping[str, str] | None = None,
    refresh: timedelta = timedelta(seconds=30),
    stages: Mapping[str, list[str]] | None = None,
) -> Dash:
    """A Dash app serving the dashboards under `prefix` (its Flask server routes from '/')."""
    ctx = Context(
        store=store,
        clock=clock,
        prefix=prefix,
        zones={facility: ZoneInfo(name) for facility, name in (zones or {}).items()},
        stages=dict(stages or {}),
    )
    app = Dash(
        "dashboards",
        requests_pathname_prefix=prefix,
        routes_pathname_prefix="/",
        assets_folder=str(ASSETS),
        title="Control Tower",
        update_title="",  # keep the tab title while callbacks run
        serve_locally=True,
        suppress_callback_exceptions=True,  # page components come and go with the route
    )
    app.layout = _shell(refresh)

    @app.callback(
        Output("page", "children"),
        Output("nav", "children"),
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def route(pathname: str | None, search: str | None) -> tuple[Component, list[Component]]:
        path = app.strip_relative_path(pathname or prefix) or ""
        page = PAGES.get(path)
        content = (
            page.layout(ctx, params_of(search))
            if page is not None
            else notice(f"There is no page at {pathname}. Pick one above.", kind="error")
        )
        return content, _nav(ctx, path)

    for page in PAGES.values():
        page.register(app, ctx)
    return app


def _shell(refresh: timedelta) -> Component:
    return html.Div(
        className="shell",
        children=[
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Interval(id="tick", interval=int(refresh.total_seconds() * 1000)),
            html.Header(
                className="topbar",
                children=[html.Span("Control Tower", className="brand"), html.Nav(id="nav")],
            ),
            html.Main(id="page"),
        ],
    )


def _nav(ctx: Context, current: str) -> list[Component]:
    return [
        dcc.Link(
            PAGES[path].TITLE,
            href=ctx.href(path),
            className="active" if path == current else "",
        )
        for path in NAV
    ]
