"""The generated stream without a server: deterministic, valid, stitchable, and faulted exactly
as the scenario says (each fault checked against the same run without faults)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import orjson
import pytest

from correlator.models import load_models
from simulator.estate import EMITTED_TYPES
from simulator.records import Emission, FaultRecord, format_time
from tests.simulator.support import EVERY_FAULT, NOW, options_for, scenario_data, split
from tower.model import Event

# Event types that move no journey stage but are hops of one (acknowledgements, the 855 we send).
HOPS = {"edi.997.sent", "edi.997.received", "edi.855.sent"}


@pytest.fixture(scope="module")
def clean() -> list[Emission]:
    return split(options_for(scenario_data()))[0]


@pytest.fixture(scope="module")
def faulted() -> tuple[list[Emission], list[FaultRecord]]:
    return split(options_for(scenario_data(faults=EVERY_FAULT)))


@pytest.fixture(scope="module")
def clean_faults_off() -> dict[str, Emission]:
    """The faulted scenario's run with its faults removed, by event id."""
    return firsts(split(options_for(scenario_data()))[0])


def firsts(events: list[Emission]) -> dict[str, Emission]:
    """Each event's first delivery, by event id."""
    out: dict[str, Emission] = {}
    for emission in events:
        out.setdefault(emission.event_id, emission)
    return out


def ndjson(events: list[Emission]) -> bytes:
    return b"\n".join(e.to_json() for e in events)


def test_the_same_seed_gives_the_same_events_and_another_seed_does_not() -> None:
    first = split(options_for(scenario_data(faults=EVERY_FAULT)))
    again = split(options_for(scenario_data(faults=EVERY_FAULT)))
    other = split(options_for({**scenario_data(faults=EVERY_FAULT), "seed": 43}))
    assert ndjson(first[0]) == ndjson(again[0])
    assert [f.to_json() for f in first[1]] == [f.to_json() for f in again[1]]
    assert ndjson(first[0]) != ndjson(other[0])


def test_a_later_window_numbers_documents_the_same_way(clean: list[Emission]) -> None:
    # Three hours less history: the overlap is the same events, with the same IDs and times.
    shorter = split(options_for(scenario_data(backfill="21h")))[0]
    cut = NOW - timedelta(hours=21)
    starts = {e.event_id: e for e in clean}
    overlap = [e for e in shorter if starts[e.event_id].occurred_at >= cut + timedelta(hours=2)]
    assert len(overlap) > 100
    assert all(e.to_json() == starts[e.event_id].to_json() for e in overlap)


def test_clean_events_are_valid_unique_and_in_delivery_order(clean: list[Emission]) -> None:
    assert len(clean) > 2000
    ids = Counter(e.event_id for e in clean)
    assert ids.most_common(1)[0][1] == 1
    for emission in clean:
        Event.model_validate(orjson.loads(emission.to_json()))
    assert [e.deliver_at for e in clean] == sorted(e.deliver_at for e in clean)
    assert all(e.deliver_at <= NOW for e in clean)
    assert all(e.event.get("status", "ok") == "ok" for e in clean)


def test_the_estate_speaks_the_journey_models_language(clean: list[Emission]) -> None:
    models = load_models()
    stage_types = {t for m in models for s in (*m.stages, *m.side_states) for t in s.events}
    seen = Counter(e.type for e in clean)
    assert set(seen) <= set(EMITTED_TYPES)
    assert set(seen) - HOPS <= stage_types
    for emission in clean:
        model = models.for_object_type(emission.event["object_type"])
        assert model is not None, emission.event["object_type"]
        assert set(emission.event["keys"]) <= set(model.aliases), emission.to_event()
        for related in emission.event.get("related", []):
            target = models.for_object_type(related["object_type"])
            assert target is not None and set(related["keys"]) <= set(target.aliases)


def test_the_estate_looks_like_one(clean: list[Emission]) -> None:
    events = [e.to_event() for e in clean]
    channels = Counter(
        e["attributes"].get("channel") for e in events if e["type"] == "order.accepted"
    )
    assert set(channels) == {"web", "marketplace", "edi"}
    facilities = {e["facility"] for e in events if e["system"] == "wms"}
    assert facilities == {"DC-EAST", "DC-WEST", "DC-EU"}
    offsets = {e["occurred_at"][-6:] for e in events if e["source"] == "wms.dc-eu"}
    assert offsets <= {"+01:00", "+02:00"}  # each site writes its own local time
    accepted = [e for e in events if e["type"] == "order.accepted"]
    assert all({"oms_order", "erp_sales_order"} <= set(e["keys"]) for e in accepted)
    assert all(
        {"customer", "channel", "value", "currency", "sku", "quantity", "priority"}
        <= set(e["attributes"])
        for e in accepted
    )
    shipped = [e for e in events if e["type"] == "shipment.shipped"]
    assert {"wms_shipment", "carrier_tracking"} <= set(shipped[0]["keys"])
    assert max(len(e["related"]) for e in shipped) >= 2  # consolidated shipments exist
    changes: dict[str, set[str]] = {}
    for e in events:
        if e["object_type"] == "inventory":
            changes.setdefault(e["keys"]["inventory_change"], set()).add(e["type"])
    full = {
        "inventory.adjusted",
        "inventory.published",
        "inventory.posted",
        "inventory.channel_published",
    }
    assert sum(1 for types in changes.values() if types == full) > 20


def test_weeks_of_history_hold_every_document_the_estate_exchanges() -> None:
    # Invoices get paid and returns come back weeks after the order: a long, thin window.
    data = scenario_data(backfill="20d", orders_per_hour=2, inventory_changes_per_hour=1)
    events = [e.to_event() for e in split(options_for(data))[0]]
    assert set(EMITTED_TYPES) == {e["type"] for e in events}

    def said_by(event_type: str) -> set[tuple[str, str]]:
        return {(e["system"], e["object_type"]) for e in events if e["type"] == event_type}

    # EDI both ways: customers' 850 in, our 855/856/810 out, suppliers' 855/856/810 in, 997s.
    assert said_by("edi.850.received") == {("edi", "order")}
    assert said_by("edi.855.sent") == {("edi", "order")}
    assert said_by("edi.856.sent") == {("edi", "shipment")}
    assert said_by("edi.810.sent") == {("edi", "invoice")}
    assert said_by("edi.850.sent") == said_by("edi.810.received") == {("edi", "purchase_order")}
    assert {o for _, o in said_by("edi.997.received")} >= {"order", "shipment", "invoice"}
    assert said_by("purchase_order.received") == {("wms", "purchase_order")}
    assert said_by("return.received") == {("wms", "return")}
    assert said_by("credit_memo.posted") == {("erp", "return")}
    # Stock moves, adjustments and receipts alike, go WMS -> middleware -> ERP -> channels.
    hops: dict[str, list[tuple[str, str]]] = {}
    for e in events:
        if e["object_type"] == "inventory":
            hops.setdefault(e["keys"]["inventory_change"], []).append((e["type"], e["system"]))
    for start in ("inventory.adjusted", "inventory.received"):
        chains = [h for h in hops.values() if h[0][0] == start]
        assert len(chains) > 20, start
        assert all(
            [system for _, system in h[:4]] == ["wms", "middleware", "erp", "channel"]
            for h in chains
            if len(h) >= 4
        )
    # Each system names the document by its own numbers and the ones it was handed.
    keys = {e["type"]: set(e["keys"]) for e in events}
    assert keys["order.allocated"] == {"erp_sales_order", "wms_order"}
    assert keys["shipment.in_transit"] == {"carrier_tracking"}
    assert keys["inventory.posted"] == {"inventory_change", "erp_material_document"}
    assert keys["return.received"] == {"return_auth", "wms_return"}


def test_every_fault_is_in_the_stream_and_the_ground_truth(
    faulted: tuple[list[Emission], list[FaultRecord]], clean_faults_off: dict[str, Emission]
) -> None:
    events, records = faulted
    by_name: dict[str, list[FaultRecord]] = {}
    for record in records:
        by_name.setdefault(record.name, []).append(record)
    assert set(by_name) == {f["name"] for f in EVERY_FAULT}

    first: dict[str, Emission] = {}
    position: dict[str, int] = {}
    copies = Counter(e.event_id for e in events)
    for index, emission in enumerate(events):
        first.setdefault(emission.event_id, emission)
        position.setdefault(emission.event_id, index)
    base = clean_faults_off

    # Faults can meet (a retried posting can also be lost), so each check skips records whose
    # evidence another fault removed, and every fault must be fully checked at least once.
    checked: Counter[str] = Counter()

    def present(*event_ids: str) -> bool:
        return all(i in first for i in event_ids)

    for record in by_name["dupes"]:
        assert copies[record.event_ids[0]] == 2
        checked["dupes"] += 1
    for record in by_name["lost"]:
        assert record.event_ids[0] in base and record.event_ids[0] not in first
        checked["lost"] += 1
    for record in by_name["reorder"]:
        late, successor = record.event_ids[0], record.detail["arrived_after"]
        if present(late, successor):
            assert position[late] > position[successor]
            checked["reorder"] += 1
    for record in by_name["erp-retried"]:
        error_id, retried = record.event_ids
        assert first[error_id].event["status"] == "error" and first[error_id].event["error"]
        if present(retried):
            assert first[retried].occurred_at - base[retried].occurred_at >= timedelta(minutes=30)
            checked["erp-retried"] += 1
    for record in by_name["erp-stuck"]:
        (error_id,) = record.event_ids
        assert first[error_id].type == "order.accepted"
        assert error_id.removesuffix(":error") not in first
        checked["erp-stuck"] += 1
    for record in by_name["dlq"]:
        dead, replayed = record.event_ids
        assert first[dead].event["system"] == "middleware"
        assert first[dead].event["status"] == "error"
        assert "dead-lettered on inventory.wms-to-erp" in first[dead].event["error"]
        if present(replayed):
            assert first[replayed].occurred_at - base[replayed].occurred_at >= timedelta(hours=1)
            checked["dlq"] += 1
    for name in ("inv-backlog", "slow-855"):
        for record in by_name[name]:
            (late,) = record.event_ids
            if present(late):
                delay = first[late].occurred_at - base[late].occurred_at
                assert delay >= timedelta(seconds=record.detail["delayed_s"] - 1)
                checked[name] += 1
    for record in by_name["west-down"]:
        for event_id in record.event_ids:
            if present(event_id):
                assert first[event_id].event["facility"] == "DC-WEST"
                assert format_time(first[event_id].deliver_at) >= record.detail["held_until"]
                checked["west-down"] += 1
    # Skew is the last phase: against the same run without it, only the claimed times differ.
    no_skew = [f for f in EVERY_FAULT if f["name"] != "eu-skew"]
    unskewed = firsts(split(options_for(scenario_data(faults=no_skew)))[0])
    for record in by_name["eu-skew"]:
        for event_id in record.event_ids:
            if present(event_id):
                assert first[event_id].occurred_at - unskewed[event_id].occurred_at == timedelta(
                    minutes=-5
                )
                assert first[event_id].deliver_at == unskewed[event_id].deliver_at
                checked["eu-skew"] += 1
    for record in by_name["east-drift"]:
        for event_id in filter(present, record.event_ids):
            assert first[event_id].event["attributes"]["on_hand"] == record.detail["erp_on_hand"]
            assert base[event_id].event["attributes"]["on_hand"] == record.detail["wms_on_hand"]
            checked["east-drift"] += 1
    assert set(checked) == set(by_name), set(by_name) - set(checked)


def test_fault_records_name_journeys_by_their_main_key(
    faulted: tuple[list[Emission], list[FaultRecord]],
) -> None:
    for record in faulted[1]:
        line = orjson.loads(record.to_json())
        assert line["record"] == "fault" and line["journeys"] and line["event_ids"]
        for journey in line["journeys"]:
            assert journey["object_type"] in {
                "order",
                "shipment",
                "invoice",
                "inventory",
                "purchase_order",
                "return",
            }
            assert len(journey["keys"]) == 1


def test_volume_sets_how_many_orders_the_estate_takes() -> None:
    def accepted(per_hour: float) -> int:
        events = split(options_for(scenario_data(backfill="12h", orders_per_hour=per_hour)))[0]
        return sum(1 for e in events if e.type == "order.accepted")

    few, many = accepted(10), accepted(40)
    assert few > 0 and 3 <= many / few <= 5


def test_live_mode_continues_past_now() -> None:
    options = dataclasses.replace(
        options_for(scenario_data(backfill="2h")), live=True, live_for=timedelta(hours=1)
    )
    events, _ = split(options)
    assert any(e.deliver_at > NOW for e in events)
    assert all(e.deliver_at <= NOW + timedelta(hours=1) for e in events)
