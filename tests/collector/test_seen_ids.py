"""The writer's in-memory set of stored event ids: it must never let a stored event in twice.

The set only says which ids may be stored; the store decides. So these tests cover what a user
would see go wrong if either half failed: a duplicate stored after a restart (set not loaded),
an event refused as a duplicate of something the store no longer holds (set trusted blindly),
or two different events dropped because their 64-bit hashes collide.
"""

from __future__ import annotations

import httpx
import numpy as np
import orjson
import pyarrow as pa

from collector.seen_ids import SeenIds
from collector.writer import _first_copies
from tests.factories import make_events
from tests.servers import ThreadServer
from tower.settings import Settings

NDJSON = {"Content-Type": "application/x-ndjson"}


def _body(events: list[dict[str, object]]) -> bytes:
    return b"\n".join(orjson.dumps(e) for e in events)


def test_the_set_finds_every_hash_added_across_many_commits_and_no_other() -> None:
    rng = np.random.default_rng(7)
    held = rng.integers(0, 2**64 - 1, size=60_000, dtype=np.uint64)
    seen = SeenIds(held[:10_000])
    for start in range(10_000, 60_000, 1_000):  # fifty commits after the load at start
        seen.add(held[start : start + 1_000])
    strangers = rng.integers(0, 2**64 - 1, size=5_000, dtype=np.uint64)
    strangers = strangers[~np.isin(strangers, held)]

    assert seen.contains(held).all()
    assert not seen.contains(strangers).any()
    # Runs merge as they grow, so a lookup searches a handful of arrays, not one per commit.
    assert seen.runs <= 8


def test_equal_hashes_with_different_ids_are_both_first_copies() -> None:
    ids = pa.chunked_array([["a", "b", "a", "c"]])
    colliding = np.array([5, 5, 5, 9], dtype=np.uint64)  # "a" and "b" collide

    assert _first_copies(ids, colliding).tolist() == [True, True, False, True]


def test_a_replay_after_a_restart_stores_nothing_twice(settings: Settings) -> None:
    events = make_events(2_000, prefix="restart")
    with ThreadServer(settings) as server:
        first = httpx.post(f"{server.url}/api/v1/events", content=_body(events), headers=NDJSON)
    with ThreadServer(settings) as server:  # a new process would load the set the same way
        again = httpx.post(f"{server.url}/api/v1/events", content=_body(events), headers=NDJSON)
        stored = server.app.state.store.scalar("SELECT count(*) FROM events", doing="test")

    assert first.json()["accepted"] == 2_000
    assert again.json() == {"accepted": 0, "duplicates": 2_000, "rejected": []}
    assert stored == 2_000


def test_an_event_the_store_no_longer_holds_is_taken_again(settings: Settings) -> None:
    # Retention deletes archived events from the store; the set still holds their hashes,
    # and must not turn a re-sent event away on that alone.
    events = make_events(100, prefix="gone")
    with ThreadServer(settings) as server:
        url = f"{server.url}/api/v1/events"
        httpx.post(url, content=_body(events), headers=NDJSON)
        store = server.app.state.store
        with store.transaction(doing="test: delete like retention") as con:
            con.execute("DELETE FROM events WHERE event_id IN ('gone-3', 'gone-4')")
        again = httpx.post(url, content=_body(events), headers=NDJSON)
        stored = store.scalar("SELECT count(DISTINCT event_id) FROM events", doing="test")
        rows = store.scalar("SELECT count(*) FROM events", doing="test")

    assert again.json() == {"accepted": 2, "duplicates": 98, "rejected": []}
    assert stored == rows == 100
