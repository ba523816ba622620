"""The on-call page's Tower panel: the history the tower keeps of its own figures, drawn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboards.tower_panel import history, tower_figure

# The on-call page in headless Chromium, with the dashboards' own browser and estate fixtures.
from tests.factories import make_events
from tests.servers import ThreadServer
from tower.selfobs import sample_once
from tower.settings import Settings

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[tuple[ThreadServer, httpx.Client]]:
    settings = Settings(db_path=tmp_path / "tower.duckdb", correlate_every=timedelta(hours=1))
    with ThreadServer(settings, clock=lambda: T0) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield server, http


def sample(server: ThreadServer, at: datetime, keep: timedelta = timedelta(days=7)) -> int:
    state = server.app.state
    return sample_once(store=state.store, monitor=state.selfobs.monitor, now=at, keep=keep)


def trace(fig: Any, title: str) -> Any:
    [found] = [t for t in fig.data if t.name == title]
    return found


def test_the_panel_draws_rates_and_levels_from_the_sampled_history(
    tower: tuple[ThreadServer, httpx.Client],
) -> None:
    server, http = tower
    assert sample(server, T0) >= 8
    http.post("/api/v1/events", json=[*make_events(120, prefix="p1"), {"bad": 1}])
    sample(server, T0 + timedelta(minutes=1))
    http.post("/api/v1/events", json=make_events(30, prefix="p2"))
    sample(server, T0 + timedelta(minutes=2))

    samples = history(store=server.app.state.store, now=T0 + timedelta(minutes=2))
    fig = tower_figure(samples)
    stored = trace(fig, "events stored /s")
    assert list(stored.y) == [2.0, 0.5]  # 120 then 30 events over a minute each
    assert list(trace(fig, "items rejected /s").y) == [pytest.approx(1 / 60), 0.0]
    waiting = trace(fig, "events waiting to stitch")
    assert list(waiting.y) == [0.0, 120.0, 150.0]  # the correlator does not run in this test
    assert all(0 < y <= 100 for y in trace(fig, "disk free (%)").y)
    assert len(fig.data) == 8

    # Older than the retention: gone at the next sample.
    sample(server, T0 + timedelta(days=8), keep=timedelta(days=7))
    later = history(
        store=server.app.state.store, now=T0 + timedelta(days=8), window=timedelta(days=30)
    )
    assert {row["sampled_at"] for row in later} == {T0 + timedelta(days=8)}


def test_an_empty_history_says_what_to_wait_for() -> None:
    fig = tower_figure([])
    assert "No history yet" in fig.layout.annotations[0].text


def test_the_oncall_page_shows_the_tower_panel(page: Any, oncall: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    state = oncall.server.app.state
    for minutes in (0, 1, 2):
        at = oncall.now - timedelta(minutes=2 - minutes)
        sample_once(
            store=state.store, monitor=state.selfobs.monitor, now=at, keep=timedelta(days=7)
        )
    page.goto(f"{oncall.server.url}/ui/oncall")
    panel = page.locator("section", has_text="Tower: the tower's own figures")
    expect(panel.locator("#oncall-tower .main-svg").first).to_be_visible()
    expect(panel.locator("#oncall-tower")).to_contain_text("correlator lag (s)")
    expect(panel.locator("#oncall-tower-jobs tbody tr", has_text="correlate")).to_have_count(1)
