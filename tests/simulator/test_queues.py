"""Queue samples from the demo estate: every middleware queue and its dead-letter queue every
5 simulated minutes, a backlog and dead letters showing in them, posted to a real tower."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from simulator import HttpEventSink, RunOptions, items, run, shipped_scenario
from simulator.queues import EVERY, dead_letter_queue
from simulator.records import Emission, FaultRecord, QueueSample
from simulator.scenario import load_scenario
from tests.servers import ThreadServer
from tests.simulator.support import NOW, options_for, scenario_data
from tower.settings import Settings

QUEUE = "inventory.wms-to-erp"
FAULTS: list[dict[str, Any]] = [
    {"kind": "queue_backlog", "name": "stall", "queue": QUEUE, "start": "-4h", "duration": "1h"},
    {"kind": "dead_letter", "name": "dlq", "queue": QUEUE, "rate": 0.2, "replay_after": None},
]  # fmt: skip


def queue_options(*, seed: int = 1, queues: bool = True) -> RunOptions:
    data = scenario_data(faults=FAULTS, backfill="8h", inventory_changes_per_hour=20)
    return options_for({**data, "seed": seed, "telemetry": {"queues": queues}})


def samples(options: RunOptions) -> list[QueueSample]:
    return [i for i in items(options=options, now=NOW) if isinstance(i, QueueSample)]


def test_samples_are_deterministic_and_show_the_backlog_and_dead_letters() -> None:
    options = queue_options()
    mine = samples(options)
    assert mine == samples(queue_options())
    assert mine != samples(queue_options(seed=2))
    assert not samples(queue_options(queues=False))
    # Samples draw on no random stream: the events are those of a run without them.
    plain = queue_options(queues=False)
    events = [i for i in items(options=options, now=NOW) if isinstance(i, Emission | FaultRecord)]
    assert [i.to_json() for i in events] == [
        i.to_json() for i in items(options=plain, now=NOW) if isinstance(i, Emission | FaultRecord)
    ]

    times = sorted({s.sampled_at for s in mine})
    assert times[0] >= NOW - timedelta(hours=8) and times[-1] <= NOW
    assert all(b - a == EVERY for a, b in zip(times, times[1:], strict=False))
    assert [s.sampled_at for s in mine] == sorted(s.sampled_at for s in mine)

    begin, end = NOW - timedelta(hours=4), NOW - timedelta(hours=3)
    on_queue = [s for s in mine if s.queue == QUEUE]
    before = max(s.depth for s in on_queue if s.sampled_at < begin)
    stalled = [s for s in on_queue if begin <= s.sampled_at < end]
    assert max(s.depth for s in stalled) > before
    assert max(s.oldest_age_seconds for s in stalled) > 30 * 60
    assert all(s.deliver_rate == 0 for s in stalled)

    dead = [s.depth for s in mine if s.queue == dead_letter_queue(QUEUE)]
    assert dead == sorted(dead) and dead[-1] > dead[0]  # never replayed: it only grows
    assert all(s.dead_letter == s.queue.endswith(".dlq") for s in mine)


def test_the_default_scenario_sends_queue_samples() -> None:
    assert load_scenario(shipped_scenario("default")).telemetry.queues


def test_a_real_tower_lists_the_estates_queues(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "tower.duckdb")  # type: ignore[call-arg]
    options = queue_options()
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as http:
        with HttpEventSink(server.url) as sink:
            summary = run(options=options, sink=sink)
        assert summary.queue_samples == len(samples(options)) and not summary.rejected
        page = http.get("/api/v1/queues", params={"history": 1000}).json()
    queues = {q["queue"]: q for q in page["items"]}
    assert {"orders.oms-to-erp", QUEUE, dead_letter_queue(QUEUE)} <= set(queues)
    assert queues[dead_letter_queue(QUEUE)]["dead_letter"]
    assert not queues[QUEUE]["dead_letter"]
    assert queues[dead_letter_queue(QUEUE)]["latest"]["depth"] > 0
    history = queues[QUEUE]["history"]
    normal = [s["depth"] for s in history if s["sampled_at"] < "2026-11-23T08:00"]
    assert max(s["depth"] for s in history) > max(normal)
