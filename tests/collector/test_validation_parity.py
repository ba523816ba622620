"""The SQL validation (the fast path) and the pydantic model (the contract) agree on every item."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.fast_check import decode_candidates, vouchable_name
from collector.ingest import Item, validate
from tests.factories import make_event
from tower.db import Store
from tower.model import Event

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(Path(tmp_path_factory.mktemp("parity")) / "parity.duckdb")


def sql_verdict(store: Store, item: Any) -> str | None:
    """The collector's verdict, the same for the item spaced out and minified.

    Minified items are what the typed first pass (collector/fast_check.py) vouches for; spaced
    ones always go to the SQL. Both paths must reach the same verdict.
    """
    if isinstance(item, str):
        return _verdict(store, item)
    spaced = _verdict(store, json.dumps(item))
    compact = _verdict(store, json.dumps(item, separators=(",", ":")))
    assert spaced == compact, (spaced, compact, item)
    return compact


def _verdict(store: Store, text: str) -> str | None:
    batch = validate(store, [Item(0, None, text)], received_at=RECEIVED)
    if batch.events.num_rows == 1:
        return None
    [reason] = batch.rejects["reason"].to_pylist()
    return str(reason)


def model_accepts(item: Any) -> bool:
    text = item if isinstance(item, str) else json.dumps(item)
    try:
        Event.model_validate_json(text)
    except pydantic.ValidationError:
        return False
    return True


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("valid", {}, None),
    ("offset time", {"occurred_at": "2026-11-23T09:15:00.123456+05:30"}, None),
    ("lower-case z", {"occurred_at": "2026-11-23t09:15:00z"}, None),
    (
        "naive time",
        {"occurred_at": "2026-11-23T09:15:00"},
        "occurred_at: timestamp has no time zone",
    ),
    ("date only", {"occurred_at": "2026-11-23"}, "occurred_at: timestamp is not RFC 3339"),
    ("not a date", {"occurred_at": "2026-02-30T10:00:00Z"}, "occurred_at: not a real date"),
    ("year zero", {"occurred_at": "0000-01-01T00:00:00Z"}, "occurred_at: not a real date"),
    ("year one", {"occurred_at": "0001-01-01T00:00:00Z"}, None),
    ("year zero in UTC", {"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at: not a real"),
    ("year 10000 in UTC", {"occurred_at": "9999-12-31T23:00:00-05:00"}, "occurred_at: not a real"),
    ("last UTC moment", {"occurred_at": "9999-12-31T23:59:59.999999Z"}, None),
    ("epoch number", {"occurred_at": 1763890500}, "occurred_at: timestamp must be an RFC 3339"),
    ("missing time", {"occurred_at": None}, "occurred_at: required"),
    ("unknown field", {"occured_at": "x"}, "unknown field(s): occured_at"),
    ("received_at is ours", {"received_at": "2026-11-23T09:15:00Z"}, "unknown field(s)"),
    ("empty event_id", {"event_id": ""}, "event_id: must be a non-empty string"),
    ("numeric event_id", {"event_id": 7}, "event_id: must be a non-empty string"),
    ("no source", {"source": None}, "source: required"),
    ("empty source", {"source": ""}, "source: must be a non-empty string"),
    ("unknown system", {"system": "sap"}, "system: must be one of"),
    ("upper-case system", {"system": "WMS"}, "system: must be one of"),
    ("empty facility", {"facility": ""}, "facility: must not be empty"),
    ("long facility", {"facility": "F" * 65}, "facility: longer than 64"),
    ("upper-case type", {"type": "Order.Accepted"}, "type: must be lower-case"),
    ("type with space", {"type": "order accepted"}, "type: must be lower-case"),
    ("type with hyphen", {"type": "shipment.out-for-delivery"}, None),
    ("bad object_type", {"object_type": "Sales Order"}, "object_type: must be lower_snake_case"),
    ("no keys", {"keys": None}, "keys: required"),
    ("empty keys", {"keys": {}}, "keys: needs at least one key"),
    ("keys as list", {"keys": ["W-1"]}, "keys: must be an object"),
    ("numeric key value", {"keys": {"erp_sales_order": 4500012}}, "keys: every key value"),
    ("empty key value", {"keys": {"oms_order": ""}}, "keys: every key value"),
    ("escaped key value", {"keys": {"oms_order": 'W-"1\\2'}}, None),
    ("256-char key value", {"keys": {"oms_order": "x" * 256}}, None),
    ("257-char key value", {"keys": {"oms_order": "x" * 257}}, "keys: every key value"),
    ("31 short keys", {"keys": {f"k{i}": "v" for i in range(31)}}, None),
    ("32 keys", {"keys": {f"k{i}": "v" for i in range(32)}}, None),
    ("bad namespace", {"keys": {"OMS-Order": "W-1"}}, "keys.OMS-Order: a key namespace"),
    ("33 keys", {"keys": {f"k{i}": "v" for i in range(33)}}, "keys: at most 32 keys"),
    ("bad status", {"status": "failed"}, "status: must be ok or error"),
    ("error status", {"status": "error", "error": "ERP posting refused: period closed"}, None),
    ("numeric error", {"error": 500}, "error: must be a string"),
    ("attributes list", {"attributes": [1, 2]}, "attributes: must be a JSON object"),
    ("null attributes", {"attributes": None}, None),
    ("related object", {"related": {"object_type": "order"}}, "related: must be a list"),
    ("related ok", {"related": [{"object_type": "order", "keys": {"oms_order": "W-2"}}]}, None),
    ("related no keys", {"related": [{"object_type": "order"}]}, "related[0].keys: required"),
    (
        "related extra",
        {"related": [{"object_type": "order", "keys": {"a": "b"}, "role": "x"}]},
        "related[0]: unknown field(s): role",
    ),
    (
        "related second bad",
        {
            "related": [
                {"object_type": "order", "keys": {"a": "b"}},
                {"object_type": "", "keys": {}},
            ]
        },
        "related[1].object_type",
    ),
    ("related not object", {"related": ["W-1"]}, "related[0]: must be an object"),
    ("correlation id", {"correlation_id": "00f067aa0ba902b7"}, None),
    ("unicode text", {"facility": "DC-KÖLN", "attributes": {"note": "Grüße \u2028 ✓"}}, None),
    ("64-char facility", {"facility": "Ö" * 64}, None),
    ("numeric correlation id", {"correlation_id": 42}, "correlation_id: must be a string"),
]


def changed_event(change: dict[str, Any]) -> dict[str, Any]:
    """A valid event with a case's change: None removes the field, anything else replaces it."""
    event = make_event()
    for field, value in change.items():
        if value is None:
            event.pop(field, None)
        else:
            event[field] = value
    return event


@pytest.mark.parametrize(("name", "change", "reason"), CASES, ids=[c[0] for c in CASES])
def test_sql_and_model_agree(
    store: Store, name: str, change: dict[str, Any], reason: str | None
) -> None:
    event = changed_event(change)
    if name == "null attributes":
        event["attributes"] = None

    verdict = sql_verdict(store, event)

    if reason is None:
        assert verdict is None
    else:
        assert verdict is not None and verdict.startswith(reason), verdict
    assert model_accepts(event) == (verdict is None)


@pytest.mark.parametrize("raw", ["", "{", "[]", "null", "42", '"text"', '{"a":1}{"b":2}'])
def test_items_that_are_not_objects(store: Store, raw: str) -> None:
    verdict = sql_verdict(store, raw)
    assert verdict is not None
    assert not model_accepts(raw)


def test_a_field_given_twice_is_refused_not_silently_resolved(store: Store) -> None:
    # JSON parsers disagree on which copy wins (DuckDB the first, pydantic the last): refuse.
    text = json.dumps(make_event(source="wms.a"))[:-1] + ', "source": "wms.b"}'
    assert sql_verdict(store, text) == "field(s) given twice: source"
    keys = json.dumps(make_event(keys={"oms_order": "W-1"})).replace(
        '"oms_order": "W-1"', '"oms_order": "W-1", "oms_order": "W-2"'
    )
    assert sql_verdict(store, keys) == "keys: a namespace is given twice"
    compact = json.dumps(make_event(source="wms.a"), separators=(",", ":"))
    assert sql_verdict(store, compact[:-1] + ',"source":"wms.b"}') == "field(s) given twice: source"
    compact = json.dumps(make_event(keys={"oms_order": "W-1"}), separators=(",", ":"))
    twice = compact.replace('"oms_order":"W-1"', '"oms_order":"W-1","oms_order":"W-2"')
    assert sql_verdict(store, twice) == "keys: a namespace is given twice"
    related = make_event(related=[{"object_type": "order", "keys": {"oms_order": "W-1"}}])
    twice = json.dumps(related, separators=(",", ":")).replace(
        '"object_type":"order"', '"object_type":"order","object_type":"Bad Type"'
    )
    assert decode_candidates([0], [twice], RECEIVED).others == [0]  # decided by the SQL, as before


def test_the_typed_pass_decodes_plain_events_and_hands_on_the_rest() -> None:
    valid = json.dumps(make_event(), separators=(",", ":"))
    spaced = json.dumps(make_event())
    escaped = json.dumps(make_event(error='said "no"'), separators=(",", ":"))
    result = decode_candidates([7, 8, 9], [valid, spaced, escaped], RECEIVED)
    assert result.columns["idx"].to_pylist() == [7]
    assert result.others == [1, 2]
    assert result.columns["keys"].to_pylist() == [
        json.dumps(json.loads(valid)["keys"]).replace(" ", "")
    ]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("order", True),
        ("a", True),
        ("erp_sales_order2", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("Order", False),
        ("_order", False),
        ("2order", False),
        ("order-line", False),
        ("", False),
        ("ördre", False),
        ("order line", False),
    ],
)
def test_vouchable_names_are_the_model_identifiers(name: str, ok: bool) -> None:
    import re

    from tower.model import IDENTIFIER

    assert vouchable_name(name) is ok
    assert (re.fullmatch(IDENTIFIER, name) is not None) is ok


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(store: Store, number: str) -> None:
    text = json.dumps(make_event()).replace('"quantity": 2', f'"quantity": {number}')
    assert number in text
    verdict = sql_verdict(store, text)
    assert verdict is not None and verdict.startswith("not valid JSON"), verdict
    assert not model_accepts(text)


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(["2026-11-23T09:15:00Z", "order.accepted", "wms", "W-1"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
field_names = st.sampled_from([*Event.model_fields, "extra"])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(field_names, json_value, max_size=3))
def test_random_mutations_get_the_same_verdict(store: Store, changes: dict[str, Any]) -> None:
    event = make_event()
    event.update(changes)
    assert model_accepts(event) == (sql_verdict(store, event) is None), event
