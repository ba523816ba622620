"""A body the typed pass takes whole gets exactly the verdicts the item-by-item path gives.

collector/ingest.py prepare() first tries to vouch for every item of a body in one decode
(collector/fast_check.py decode_body); any doubt and it validates item by item. Both must store
the same rows and refuse the same items for the same reasons, whatever the body looks like.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import fast_check
from collector.event_keys import key_rows
from collector.ingest import BodyFormat, ValidatedBatch, prepare, split_items, validate
from tests.collector.test_validation_parity import CASES, changed_event, json_value
from tests.factories import make_event
from tower.db import Store
from tower.model import Event

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NDJSON = BodyFormat.NDJSON
JSON = BodyFormat.JSON


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(Path(tmp_path_factory.mktemp("whole")) / "whole.duckdb")


def minified(event: Any) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def ndjson(events: list[Any]) -> bytes:
    return "\n".join(minified(e) for e in events).encode() + b"\n"


def both_ways(store: Store, body: bytes, fmt: BodyFormat) -> tuple[ValidatedBatch, ValidatedBatch]:
    whole = prepare(
        store, body, fmt=fmt, content_encoding=None, max_bytes=1 << 24, received_at=RECEIVED
    )
    one_by_one = validate(store, split_items(body, fmt), received_at=RECEIVED)
    return whole, one_by_one


def assert_same(whole: ValidatedBatch, one_by_one: ValidatedBatch) -> None:
    assert whole.events.sort_by("idx").to_pylist() == one_by_one.events.sort_by("idx").to_pylist()
    assert whole.rejects.to_pylist() == one_by_one.rejects.to_pylist()
    assert whole.items == one_by_one.items


@pytest.mark.parametrize(("name", "change", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_contract_case_in_a_body_gets_the_item_verdict(
    store: Store, name: str, change: dict[str, Any], reason: str | None
) -> None:
    batch = [make_event(), changed_event(change), make_event()]
    for body, fmt in ((ndjson(batch), NDJSON), (minified(batch).encode(), JSON)):
        whole, one_by_one = both_ways(store, body, fmt)
        assert_same(whole, one_by_one)
        assert whole.events.num_rows == (3 if reason is None else 2)
        if reason is None and b"\\" not in body:
            assert taken_whole(body, fmt), name


def taken_whole(body: bytes, fmt: BodyFormat) -> bool:
    """Whether the whole-body pass vouched for every item (no item-by-item validation)."""
    items = fast_check.decode_body(body, ndjson=fmt is NDJSON)
    return items is not None and bool(fast_check.vouch(items, range(len(items)), RECEIVED)[1].all())


def test_a_clean_body_is_taken_whole_and_normalised_like_the_sql(store: Store) -> None:
    events = [
        make_event(occurred_at="2026-11-23T09:15:00.123456+05:30", status="error", error="x"),
        make_event(facility=None, attributes={"nested": {"list": [1, 2.5, None]}}),
        make_event(related=[{"object_type": "order", "keys": {"oms_order": "W-9"}}]),
    ]
    body = ndjson(events)
    assert taken_whole(body, NDJSON)
    whole, one_by_one = both_ways(store, body, NDJSON)
    assert_same(whole, one_by_one)
    [first, second, third] = whole.events.to_pylist()
    assert first["occurred_at"] == datetime(2026, 11, 23, 3, 45, 0, 123456, tzinfo=UTC)
    assert (second["status"], second["facility"]) == ("ok", None)
    assert third["related"] == '[{"object_type":"order","keys":{"oms_order":"W-9"}}]'


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("two items on one line", b'{"a":1}{"b":2}\n'),
        ("blank line", b"EVENT\n\nEVENT\n"),
        ("leading blank line", b"\nEVENT\nEVENT"),
        ("no final newline", b"EVENT\nEVENT"),
        ("crlf", b"EVENT\r\nEVENT\r\n"),
        ("spaced line", b"EVENT\n  \nEVENT\n"),
        ("two events on one line", b"EVENTEVENT\nEVENT\n"),
        ("event and a blank", b"EVENTEVENT\n\n"),
        ("a field twice", b"TWICE\nEVENT\n"),
        ("an escape", b"ESCAPED\nEVENT\n"),
        ("nanoseconds", b"NANOS\nEVENT\n"),
        ("lower-case t", b"LOWER\nEVENT\n"),
        ("not a real date", b"FEB30\nEVENT\n"),
        ("year zero", b"YEAR0\nEVENT\n"),
        ("null optional fields", b"NULLS\nEVENT\n"),
    ],
)
def test_awkward_ndjson_bodies_get_the_item_verdicts(store: Store, name: str, body: bytes) -> None:
    fills = {
        b"TWICE": minified(make_event(source="wms.a"))[:-1].encode() + b',"source":"wms.b"}',
        b"ESCAPED": minified(make_event(error='said "no"')).encode(),
        b"NANOS": minified(make_event(occurred_at="2026-11-23T09:15:00.123456789Z")).encode(),
        b"LOWER": minified(make_event(occurred_at="2026-11-23t09:15:00z")).encode(),
        b"FEB30": minified(make_event(occurred_at="2026-02-30T09:15:00Z")).encode(),
        b"YEAR0": minified(make_event(occurred_at="0000-01-01T00:00:00Z")).encode(),
        b"NULLS": minified({**make_event(), "facility": None, "status": None}).encode(),
    }
    for marker, text in fills.items():
        body = body.replace(marker, text)
    while b"EVENT" in body:
        body = body.replace(b"EVENT", minified(make_event()).encode(), 1)
    whole, one_by_one = both_ways(store, body, NDJSON)
    assert_same(whole, one_by_one)


field_names = st.sampled_from([*Event.model_fields, "extra"])


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.lists(st.dictionaries(field_names, json_value, max_size=2), min_size=1, max_size=3),
    array=st.booleans(),
)
def test_random_batches_get_the_same_verdicts_both_ways(
    store: Store, changes: list[dict[str, Any]], array: bool
) -> None:
    batch = [{**make_event(), **change} for change in changes]
    body = minified(batch).encode() if array else ndjson(batch)
    whole, one_by_one = both_ways(store, body, JSON if array else NDJSON)
    assert_same(whole, one_by_one)


def test_key_rows_list_own_keys_then_each_related_objects_keys() -> None:
    events = pa.table(
        {
            "idx": pa.array([0, 3], pa.int32()),
            "object_type": ["order", "shipment"],
            "keys": ['{"oms_order":"W-1","erp_sales_order":"45"}', '{"wms_shipment":"SH-7"}'],
            "related": [
                "[]",
                '[{"object_type":"order","keys":{"oms_order":"W-1"}},'
                '{"object_type":"order","keys":{"oms_order":"W-2","erp_sales_order":"46"}}]',
            ],
        }
    )
    rows = [
        row(0, None, "order", "oms_order", "W-1"),
        row(0, None, "order", "erp_sales_order", "45"),
        row(3, None, "shipment", "wms_shipment", "SH-7"),
        row(3, 0, "order", "oms_order", "W-1"),
        row(3, 1, "order", "oms_order", "W-2"),
        row(3, 1, "order", "erp_sales_order", "46"),
    ]
    assert key_rows(events).to_pylist() == rows
    # Values with quotes and separators in them, spaced JSON: what the SQL path may hand on.
    awkward = events.set_column(
        2, "keys", pa.array(['{"oms_order": "W-\\"1\\"", "erp_sales_order": "4,5:"}', "{}"])
    )
    assert [(r["namespace"], r["value"]) for r in key_rows(awkward).to_pylist()][:2] == [
        ("oms_order", 'W-"1"'),
        ("erp_sales_order", "4,5:"),
    ]
    spaced = events.set_column(2, "keys", pa.array(['{ "a" : "x,y" , "b":"}{" }', "{}"]))
    assert [(r["namespace"], r["value"]) for r in key_rows(spaced).to_pylist()][:2] == [
        ("a", "x,y"),
        ("b", "}{"),
    ]


def row(idx: int, related: int | None, object_type: str, namespace: str, value: str) -> Any:
    return {
        "idx": idx,
        "related_index": related,
        "object_type": object_type,
        "namespace": namespace,
        "value": value,
    }
