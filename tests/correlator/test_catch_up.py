"""A scheduled correlator tick that finds a full batch waiting keeps going, within its budget."""

from __future__ import annotations

from pathlib import Path

from correlator.jobs import pending_events, run_while_behind
from correlator.models import load_models
from tests.correlator.support import store_events
from tests.factories import make_events
from tower.db import Store


def test_a_tick_behind_by_several_batches_catches_up(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.duckdb")
    try:
        store_events(store, make_events(250))
        reports = run_while_behind(store=store, models=load_models(), batch_size=100)
        assert [r.events for r in reports] == [100, 100, 50]
        assert pending_events(store=store) == 0
    finally:
        store.close()


def test_a_tick_stops_at_its_budget_and_the_next_one_resumes(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.duckdb")
    try:
        store_events(store, make_events(250))
        models = load_models()
        first = run_while_behind(store=store, models=models, batch_size=100, budget_seconds=0)
        assert [r.events for r in first] == [100]
        assert pending_events(store=store) == 150
        rest = run_while_behind(store=store, models=models, batch_size=100)
        assert sum(r.events for r in rest) == 150
    finally:
        store.close()
