"""The on-call page's "Tower" panel: the tower's own figures over time, and its jobs now.

A component of its own (dashboards/pages/oncall.py only places it): the history the
`selfobs_sample` job keeps in `tower_samples` (tower/selfobs), drawn as small multiples, and each
scheduled job's last success. Reads go through tower/selfobs/readings.py, like GET /api/v1/health.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, html
from dash.development.base_component import Component
from plotly.subplots import make_subplots

from dashboards import figures
from dashboards.components import Context, card, graph, table
from tower.db import Store
from tower.exceptions import TowerError
from tower.selfobs import readings

__all__ = ["WINDOW", "history", "panel", "register", "tower_figure"]

WINDOW = timedelta(hours=6)
# (title, how a row of samples becomes a point): counters become rates between samples.
PLOTS: tuple[tuple[str, str, str], ...] = (
    ("events stored /s", "events", "rate"),
    ("items rejected /s", "rejects", "rate"),
    ("writer queue (events)", "writer_queue_events", "value"),
    ("correlator lag (s)", "correlator_lag_seconds", "value"),
    ("events waiting to stitch", "correlator_events_waiting", "value"),
    ("database (MB)", "db_bytes", "mb"),
    ("disk free (%)", "disk_free_ratio", "percent"),
    ("failed deliveries /s", "notification_failures", "rate"),
)


def panel(page: str) -> Component:
    """The panel's place on a page: the figure and the jobs' table, filled by `register`."""
    return card(
        "Tower: the tower's own figures, last 6 hours",
        graph(f"{page}-tower"),
        html.Div(id=f"{page}-tower-jobs"),
        wide=True,
    )


def register(app: Dash, ctx: Context, page: str) -> None:
    """Refresh the panel with the page's tick."""

    @app.callback(
        Output(f"{page}-tower", "figure"),
        Output(f"{page}-tower-jobs", "children"),
        Input("tick", "n_intervals"),
    )
    def refresh(_tick: int | None) -> tuple[Any, Any]:
        now = ctx.clock()
        try:
            samples = history(store=ctx.store, now=now)
            jobs = readings.jobs(store=ctx.store)
        except TowerError as exc:
            return figures.empty(f"No data: {exc.detail}"), None
        return tower_figure(samples), _jobs_table(jobs, now)


def history(*, store: Store, now: datetime, window: timedelta = WINDOW) -> list[dict[str, Any]]:
    """The sampled figures of the last `window`, oldest first."""
    return store.query(
        readings.SQL["samples"],
        {"now": now, "since": now - window},
        doing="reading the tower's own history",
    )


def tower_figure(samples: Sequence[dict[str, Any]]) -> go.Figure:
    """Small multiples, one per figure, over the sampled history (pure)."""
    series: dict[str, list[tuple[datetime, float]]] = {}
    for row in samples:
        series.setdefault(row["metric"], []).append((row["sampled_at"], float(row["value"])))
    if not series:
        return figures.empty(
            "No history yet: the tower samples its own figures every minute "
            "(TOWER_SELFOBS_SAMPLE_EVERY)."
        )
    rows = (len(PLOTS) + 1) // 2
    fig = make_subplots(
        rows=rows, cols=2, subplot_titles=[t for t, _, _ in PLOTS], vertical_spacing=0.09
    )
    for n, (title, metric, how) in enumerate(PLOTS):
        xs, ys = _points(series.get(metric, []), how)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=title,
                marker={"size": 4},
                hovertemplate=f"{title}: %{{y:,.2f}}<br>%{{x}}<extra></extra>",
            ),
            row=n // 2 + 1,
            col=n % 2 + 1,
        )
    fig.update_layout(
        template="plotly_white",
        height=140 * rows + 60,
        showlegend=False,
        margin={"l": 50, "r": 20, "t": 40, "b": 30},
        font={"size": 11},
    )
    fig.update_annotations(font_size=12)
    return fig


def _points(points: list[tuple[datetime, float]], how: str) -> tuple[list[Any], list[float]]:
    if how == "rate":  # a counter: the change per second between consecutive samples
        xs, ys = [], []
        for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
            seconds = (t1 - t0).total_seconds()
            if seconds > 0:
                xs.append(t1)
                ys.append(max(v1 - v0, 0.0) / seconds)  # a restart's reset is not negative
        return xs, ys
    scale = {"mb": 1e-6, "percent": 100.0}.get(how, 1.0)
    return [t for t, _ in points], [v * scale for _, v in points]


def _jobs_table(jobs: Sequence[readings.JobState], now: datetime) -> Component:
    return table(
        ("job", "every", "last success", "since", "last run", "runs", "failures", "last error"),
        [
            (
                job.name,
                f"{job.interval_seconds:g} s",
                f"{job.last_success:%H:%M:%S} UTC" if job.last_success else "never",
                f"{job.since_success(now):,.0f} s",
                f"{job.last_duration:.3f} s" if job.last_duration is not None else "",
                job.runs,
                job.failures,
                job.last_error or "",
            )
            for job in jobs
        ],
        empty="No scheduled job has been recorded yet.",
    )
