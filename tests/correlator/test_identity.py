"""Which keys name the same object: identity.resolve on its own, and through a real store."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from collector.ingest import Item, validate
from collector.writer import Writer
from correlator.identity import NO_JOURNEY, OWN, Resolution, resolve
from correlator.jobs import run_once
from correlator.models import load_models
from tests.factories import make_event
from tower.clock import utc_now
from tower.db import Store

Node = tuple[str, str, str]  # (object_type, namespace, value)
Group = Sequence[Node]


class Batch:
    """Events as identity sees them (own keys, then each related object's), as resolve's rows."""

    def __init__(self, known: dict[Node, int] | None = None) -> None:
        self.known = known or {}
        self.rows: list[tuple[int, int, Node]] = []

    def event(self, seq: int, own: Group, *related: Group) -> Batch:
        self.rows += [(seq, OWN, node) for node in own]
        self.rows += [(seq, i, node) for i, group in enumerate(related) for node in group]
        return self

    def resolve(self, *, next_id: int = 100, shuffle: int | None = None) -> Outcome:
        rows = list(self.rows)
        if shuffle is not None:  # the row order of a query is not guaranteed
            random.Random(shuffle).shuffle(rows)
        ids = {node: 7 * i + 3 for i, node in enumerate(sorted({r[2] for r in rows}))}
        result = resolve(
            seq=np.array([r[0] for r in rows], dtype=np.int64),
            related=np.array([r[1] for r in rows], dtype=np.int64),
            node=np.array([ids[r[2]] for r in rows], dtype=np.int64),
            known=np.array([self.known.get(r[2], NO_JOURNEY) for r in rows], dtype=np.int64),
            next_id=next_id,
        )
        return Outcome(result, [r[2] for r in rows])


class Outcome:
    """A Resolution read back as plain Python, the way the old dict-based one spoke."""

    def __init__(self, result: Resolution, nodes: list[Node]) -> None:
        self.result = result

        def pairs(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
            return list(zip(a.tolist(), b.tolist(), strict=True))

        self.own = dict(pairs(result.member_seqs, result.member_journeys))
        self.new_nodes = {
            nodes[row]: journey
            for row, journey in pairs(result.new_node_rows, result.new_node_journeys)
        }
        self.links = set(pairs(result.link_from, result.link_to))
        self.merges = dict(pairs(result.absorbed, result.survivor))
        assert len(self.own) == len(result.member_seqs), "an event is a member twice"
        assert len(self.new_nodes) == len(result.new_node_rows), "a new key is stored twice"
        assert len(self.links) == len(result.link_from), "a link is stored twice"


def order(namespace: str, value: str) -> Node:
    return ("order", namespace, value)


def shipment(namespace: str, value: str) -> Node:
    return ("shipment", namespace, value)


W1, SO1, PK1 = order("oms_order", "W-1"), order("erp_sales_order", "451"), order("wms", "P-1")


@pytest.mark.parametrize("arrival", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_an_alias_chain_in_any_order_is_one_journey(arrival: tuple[int, ...]) -> None:
    events = [(W1,), (W1, SO1), (SO1, PK1)]
    batch = Batch()
    for seq, index in enumerate(arrival, start=1):
        batch.event(seq, events[index])

    for shuffle in (None, 1, 2):
        out = batch.resolve(next_id=40, shuffle=shuffle)
        assert out.own == {1: 40, 2: 40, 3: 40}
        assert out.new_nodes == {W1: 40, SO1: 40, PK1: 40}
        assert (out.links, out.merges) == (set(), {})
        assert (out.result.journeys_created, out.result.next_id) == (1, 41)


def test_an_alias_of_a_known_key_joins_its_journey_and_only_new_keys_are_stored() -> None:
    out = Batch(known={W1: 5}).event(10, (W1, SO1)).event(11, (PK1,)).resolve(next_id=9)
    assert out.own == {10: 5, 11: 9}
    assert out.new_nodes == {SO1: 5, PK1: 9}
    assert (out.result.journeys_created, out.result.next_id) == (1, 10)


def test_two_orders_sharing_a_shipment_stay_apart_and_are_linked() -> None:
    ship = (shipment("wms_shipment", "SH-1"), shipment("carrier_tracking", "1Z"))
    out = (
        Batch()
        .event(1, (W1, SO1))
        .event(2, (order("oms_order", "W-2"), order("erp_sales_order", "452")))
        .event(3, ship, (SO1,), (order("erp_sales_order", "452"),))
        .event(4, (shipment("carrier_tracking", "1Z"),))
        .resolve(next_id=1)
    )
    assert out.own == {1: 1, 2: 2, 3: 3, 4: 3}
    assert out.links == {(3, 1), (3, 2)}
    assert out.merges == {}
    assert out.result.journeys_created == 3


def test_new_journeys_are_numbered_in_the_order_the_batch_first_names_them() -> None:
    a, b, c = order("oms_order", "A"), order("oms_order", "B"), order("oms_order", "C")
    out = Batch().event(5, (c,)).event(6, (a,), (b,)).event(7, (b, a)).resolve(next_id=20)
    assert out.own == {5: 20, 6: 21, 7: 21}
    assert out.new_nodes == {c: 20, a: 21, b: 21}
    assert out.links == set()  # b turned out to be an alias of a: one object, no link


def test_a_batch_joining_known_journeys_merges_them_into_the_lowest() -> None:
    known = {W1: 7, SO1: 3, PK1: 12, order("oms_order", "W-9"): 4}
    out = Batch(known).event(1, (W1, SO1)).event(2, (SO1, PK1)).resolve(next_id=50)
    assert out.merges == {7: 3, 12: 3}  # 4 was not joined to them: untouched
    assert out.own == {1: 3, 2: 3}
    assert out.new_nodes == {}
    assert (out.result.journeys_created, out.result.next_id) == (0, 50)


def test_an_event_without_own_keys_is_unlinked_but_names_what_it_references() -> None:
    # e.g. a stock count whose own keys were all dimensions, about a known and a new shipment
    known = {shipment("wms_shipment", "SH-1"): 8}
    out = (
        Batch(known)
        .event(1, (), (shipment("wms_shipment", "SH-1"),), (shipment("wms_shipment", "SH-2"),))
        .resolve(next_id=30)
    )
    assert out.own == {}
    assert out.links == set()
    assert out.new_nodes == {shipment("wms_shipment", "SH-2"): 30}
    assert out.result.journeys_created == 1


def test_an_empty_batch_changes_nothing() -> None:
    out = Batch().resolve(next_id=3)
    assert (out.own, out.new_nodes, out.links, out.merges) == ({}, {}, set(), {})
    assert (out.result.journeys_created, out.result.next_id) == (0, 3)


def test_a_long_alias_chain_in_reverse_is_one_journey() -> None:
    # each event names the next alias: the component is as deep as the batch is long
    nodes = [order("oms_order", f"W-{i}") for i in range(2_001)]
    batch = Batch()
    for i in reversed(range(2_000)):
        batch.event(2_000 - i, (nodes[i], nodes[i + 1]))
    out = batch.resolve(next_id=1, shuffle=3)
    assert set(out.own.values()) == {1}
    assert len(out.new_nodes) == 2_001


def reference(batch: Batch, next_id: int) -> tuple[Any, ...]:
    """The semantics spelt out one event at a time: a plain union-find, as the correlator had."""
    parent: dict[Any, Any] = {}

    def find(item: Any) -> Any:
        while parent.setdefault(item, item) != item:
            item = parent[item]
        return item

    def union(items: list[Any]) -> None:
        roots = [find(i) for i in items]
        for root in roots[1:]:
            parent[find(root)] = find(roots[0])

    groups: dict[tuple[int, int], list[Node]] = {}
    for seq, index, node in batch.rows:
        groups.setdefault((seq, index), []).append(node)
    for key in sorted(groups):
        union(groups[key])
    for node, journey in batch.known.items():
        union([node, ("journey", journey)])
    journey_of: dict[Any, int] = {}
    merges, created = {}, 0
    for key in sorted(groups):  # components in the order the batch first names them
        root = find(groups[key][0])
        if root in journey_of:
            continue
        journeys = sorted({j for i, j in batch.known.items() if find(i) == root})
        if journeys:
            journey_of[root] = journeys[0]
            merges.update(dict.fromkeys(journeys[1:], journeys[0]))
        else:
            journey_of[root] = next_id + created
            created += 1
    own = {s: journey_of[find(g[0])] for (s, i), g in groups.items() if i == OWN}
    links = {
        (own[s], journey_of[find(g[0])])
        for (s, i), g in groups.items()
        if i != OWN and s in own and journey_of[find(g[0])] != own[s]
    }
    new_nodes = {n: journey_of[find(n)] for g in groups.values() for n in g if n not in batch.known}
    return own, new_nodes, links, merges, created


def random_batches(count: int) -> Iterator[Batch]:
    rnd = random.Random(20261123)
    for _ in range(count):
        values = rnd.randint(1, 30)

        def group(size: list[int], values: int = values) -> list[Node]:
            nodes = range(rnd.choice(size))
            return list(
                {(rnd.choice("ab"), rnd.choice("xyz"), str(rnd.randrange(values))) for _ in nodes}
            )

        batch = Batch()
        for seq in range(1, rnd.randint(1, 25)):
            related = [group([0, 1, 2]) for _ in range(rnd.choice([0, 0, 1, 2]))]
            batch.event(seq * 10 + rnd.randrange(10), group([0, 1, 1, 2, 3]), *related)
        batch.known = {n: rnd.randint(1, 6) for _, _, n in batch.rows if rnd.random() < 0.3}
        yield batch


def test_random_batches_resolve_as_one_event_at_a_time_would() -> None:
    for index, batch in enumerate(random_batches(300)):
        out = batch.resolve(next_id=50, shuffle=index)
        got = (out.own, out.new_nodes, out.links, out.merges, out.result.journeys_created)
        assert got == reference(batch, 50), index


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "identity.duckdb")
    yield store
    store.close()


def ingest(store: Store, *events: dict[str, Any]) -> None:
    writer = Writer(store, max_queued_events=1_000, max_commit_events=1_000)
    writer.start()
    try:
        items = [Item(i, None, orjson.dumps(e).decode()) for i, e in enumerate(events)]
        writer.submit(validate(store, items, received_at=utc_now()), request_id="t").result()
    finally:
        writer.stop()


def test_dimension_keys_identify_nothing_own_or_related(store: Store) -> None:
    def inventory(type: str, keys: dict[str, str], **extra: Any) -> dict[str, Any]:
        return make_event(type=type, object_type="inventory", keys=keys, **extra)

    ingest(
        store,
        inventory("inventory.adjusted", {"inventory_change": "C-1", "sku": "SKU-1"}),
        inventory("inventory.adjusted", {"inventory_change": "C-2", "sku": "SKU-1"}),
        # all its own keys are dimensions; what it references still becomes a journey
        inventory(
            "inventory.counted",
            {"sku": "SKU-1", "facility": "DC-EAST"},
            related=[{"object_type": "order", "keys": {"oms_order": "W-7"}}],
        ),
        # the related inventory object's sku is a dimension of *its* model: C-1 only
        make_event(
            type="order.allocated",
            keys={"oms_order": "W-8"},
            related=[
                {"object_type": "inventory", "keys": {"inventory_change": "C-1", "sku": "SKU-1"}},
                {"object_type": "inventory", "keys": {"sku": "SKU-2"}},
            ],
        ),
    )
    report = run_once(store=store, models=load_models())

    assert (report.events, report.journeys_created, report.merges) == (4, 4, 0)
    identity = store.query(
        "SELECT object_type, namespace, value, journey_id FROM identity ORDER BY journey_id",
        doing="t",
    )
    assert [(r["object_type"], r["namespace"], r["value"]) for r in identity] == [
        ("inventory", "inventory_change", "C-1"),
        ("inventory", "inventory_change", "C-2"),
        ("order", "oms_order", "W-7"),
        ("order", "oms_order", "W-8"),
    ]
    c1, c2, w7, w8 = (r["journey_id"] for r in identity)
    members = store.query(
        "SELECT e.type, je.journey_id FROM journey_events AS je JOIN events AS e USING (seq)"
        " ORDER BY seq",
        doing="t",
    )
    assert [(m["type"], m["journey_id"]) for m in members] == [
        ("inventory.adjusted", c1),
        ("inventory.adjusted", c2),
        ("order.allocated", w8),
    ]
    links = store.query("SELECT from_journey, to_journey FROM journey_links", doing="t")
    assert [(r["from_journey"], r["to_journey"]) for r in links] == [(w8, c1)]
    assert w7 not in {m["journey_id"] for m in members}
    next_id = store.scalar(
        "SELECT value FROM correlator_state WHERE name = 'next_journey_id'", doing="t"
    )
    assert next_id == max(c1, c2, w7, w8) + 1


def test_a_later_batch_merges_known_journeys_into_the_oldest(store: Store) -> None:
    models = load_models()
    ingest(store, make_event(keys={"oms_order": "W-1"}), make_event(keys={"wms_order": "P-1"}))
    run_once(store=store, models=models)
    ingest(store, make_event(keys={"oms_order": "W-1", "wms_order": "P-1", "erp_order": "9"}))
    report = run_once(store=store, models=models)

    assert (report.events, report.journeys_created, report.merges) == (1, 0, 1)
    journeys = store.query(
        "SELECT DISTINCT journey_id FROM identity UNION SELECT journey_id FROM journey_events",
        doing="t",
    )
    assert [r["journey_id"] for r in journeys] == [1]
    assert store.scalar("SELECT count(*) FROM journey_events", doing="t") == 3
    assert store.scalar("SELECT count(*) FROM identity", doing="t") == 3
