"""The correlator job is safe to call while another run is under way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from collector.ingest import Item, validate
from collector.writer import Writer
from correlator.jobs import run_once
from correlator.models import load_models
from tests.factories import make_event
from tower.clock import utc_now
from tower.db import Store


def test_overlapping_runs_stitch_each_event_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    writer = Writer(store, max_queued_events=100_000, max_commit_events=100_000)
    writer.start()
    try:
        events = [
            make_event(keys={"oms_order": f"W-{n % 50}"}, type="order.received")
            for n in range(2_000)
        ]
        items = [Item(i, None, orjson.dumps(e).decode()) for i, e in enumerate(events)]
        writer.submit(validate(store, items, received_at=utc_now()), request_id="t").result()
        models = load_models()
        with ThreadPoolExecutor(4) as pool:
            reports = list(
                pool.map(lambda _: run_once(store=store, models=models, batch_size=300), range(12))
            )
        while run_once(store=store, models=models).events:
            pass
        assert sum(r.events for r in reports) <= 2_000
        members = store.query_arrow("SELECT seq FROM journey_events", doing="t")
        seqs = members.column("seq").to_pylist()
        assert len(seqs) == len(set(seqs)) == 2_000, "an event joined a journey twice"
        assert store.scalar("SELECT count(*) FROM journeys", doing="t") == 50
    finally:
        writer.stop()
        store.close()
