"""Webhook mappings: YAML to events by JMESPath and JSONPath; the shipped ones on fixtures."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.mapping import WebhookMapping
from adapters.mapping_files import MappingError, load_mappings, parse_mapping
from tests.vectors import vector_dir

PARCEL_MAPPING = """
source: wms.test
system: wms
timezone: Europe/Amsterdam
events:
  - name: parcel
    type: shipment.shipped
    object_type: shipment
    occurred_at: $.item.shipped
    keys: {wms_shipment: item.id, carrier_tracking: $.item.tracking}
    attributes: {weight: item.kg, source_topic: headers."x-topic"}
    related:
      - object_type: order
        for_each: item.orders
        keys: {wms_order: each}
  - name: line
    for_each: payload.lines
    when: item.qty > `0`
    type: {jmespath: item.state, map: {done: order.picked, short: order.backordered}}
    status: {jmespath: item.state, map: {short: error}, default: ok}
    object_type: order
    occurred_at: item.at
    keys: {wms_order: item.order}
    attributes: {sku: item.sku, quantity: item.qty}
"""

PARCEL = {
    "id": 881,
    "tracking": "1Z-9",
    "kg": 2.5,
    "shipped": "2026-11-23T09:15:00",
    "orders": ["W-1", "W-2"],
    "lines": [
        {"order": "W-1", "sku": "A", "qty": 2, "state": "done", "at": 1795425300},
        {"order": "W-2", "sku": "B", "qty": 0, "state": "done", "at": 1795425300},
        {"order": "W-2", "sku": "C", "qty": 1, "state": "short", "at": 1795425300000},
    ],
}


def _mapping(text: str = PARCEL_MAPPING) -> WebhookMapping:
    return parse_mapping(yaml.safe_load(text), name="parcel", origin="parcel.yaml")


def test_one_payload_yields_an_event_per_object_and_per_line() -> None:
    result = _mapping().apply(PARCEL, headers={"X-Topic": "ship/confirm"})
    assert result.rejected == []
    shipment, picked, short = result.events
    assert shipment == {
        "occurred_at": "2026-11-23T09:15:00+01:00",  # naive time read in the mapping's zone
        "source": "wms.test",
        "system": "wms",
        "type": "shipment.shipped",
        "object_type": "shipment",
        "keys": {"wms_shipment": "881", "carrier_tracking": "1Z-9"},  # numbers become text
        "attributes": {"weight": 2.5, "source_topic": "ship/confirm"},
        "related": [
            {"object_type": "order", "keys": {"wms_order": "W-1"}},
            {"object_type": "order", "keys": {"wms_order": "W-2"}},
        ],
    }
    assert (picked["type"], picked["keys"], picked["status"]) == (
        "order.picked",
        {"wms_order": "W-1"},
        "ok",
    )
    assert picked["occurred_at"] == "2026-11-23T09:15:00Z"  # epoch seconds
    assert (short["type"], short["status"], short["attributes"]["sku"]) == (
        "order.backordered",
        "error",
        "C",
    )
    assert short["occurred_at"] == "2026-11-23T09:15:00Z"  # epoch milliseconds
    assert result.indexes == [0, 1, 2]  # the line with qty 0 is skipped by `when`


def test_a_payload_error_names_the_event_field_and_expression_and_keeps_the_rest() -> None:
    broken = PARCEL | {"shipped": None, "lines": [PARCEL["lines"][0] | {"order": {"no": 1}}]}
    result = _mapping().apply(broken)
    assert result.events == []
    first, second = (r.reason for r in result.rejected)
    assert first == (
        "event 0 (parcel events[0] (parcel)): occurred_at: jsonpath '$.item.shipped' gave nothing"
    )
    assert second == (
        "event 1 (parcel events[1] (line)): keys.wms_order: jmespath 'item.order' gave a dict, "
        "not one value"
    )
    lost = PARCEL | {"lines": [PARCEL["lines"][0] | {"state": "lost"}]}
    (unlisted,) = _mapping().apply(lost).rejected
    assert unlisted.reason.endswith(
        "type: jmespath 'item.state' gave nothing or a value its map: does not list"
    )
    ok = _mapping().apply(PARCEL | {"shipped": None})
    assert [e["type"] for e in ok.events] == ["order.picked", "order.backordered"]
    assert [r.index for r in ok.rejected] == [0]


def test_a_function_error_is_refused_with_the_expression() -> None:
    text = PARCEL_MAPPING.replace("{weight: item.kg,", "{weight: abs(item.tracking),")
    (refused,) = _mapping(text).apply(PARCEL).rejected
    assert "attributes.weight: jmespath 'abs(item.tracking)' failed: In function abs()" in (
        refused.reason
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("weight: item.kg", "weight: 'item.kg =='"), "parcel.yaml: events[0] (parcel): "
         "attributes.weight: jmespath 'item.kg ==' does not compile"),
        (("$.item.shipped", "$.item[shipped"), "events[0] (parcel): occurred_at: jsonpath "
         "'$.item[shipped' does not compile"),
        (("    type: shipment.shipped\n", ""), "events[0] (parcel): missing type"),
        (("when:", "whenever:"), "events[1] (line): unknown field(s) ['whenever']"),
        (("timezone: Europe/Amsterdam", "timezone: Mars/Olympus"), "timezone: unknown zone"),
        (("{jmespath: item.state, map:", "{jmespath: item.state, jsonpath: $.x, map:"),
         "events[1] (line): type: give exactly one of jmespath:, jsonpath: or value:"),
    ],
)  # fmt: skip
def test_a_bad_mapping_file_fails_at_load_naming_field_and_expression(
    change: tuple[str, str], message: str
) -> None:
    text = PARCEL_MAPPING.replace(*change)
    assert text != PARCEL_MAPPING
    with pytest.raises(MappingError) as caught:
        _mapping(text)
    assert message in str(caught.value)


def test_a_user_folder_adds_mappings_and_replaces_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "parcel.yaml").write_text(PARCEL_MAPPING)
    (tmp_path / "shopify-order.yaml").write_text(PARCEL_MAPPING)
    mappings = load_mappings(tmp_path)
    assert {"parcel", "shopify-order", "shopify-fulfillment", "wms-shipment"} <= set(mappings)
    assert mappings["shopify-order"].origin == str(tmp_path / "shopify-order.yaml")
    with pytest.raises(MappingError, match="webhook mapping folder not found"):
        load_mappings(tmp_path / "missing")


def test_the_shipped_wms_mapping_yields_the_shipment_and_each_order() -> None:
    confirmation = {
        "shipment_id": "SH-1",
        "warehouse": "DC-EAST",
        "shipped_at": "2026-11-23T14:05:00Z",
        "carrier": "UPS",
        "tracking_number": "1Z999",
        "orders": [
            {"order_id": "W-1001", "lines": [{"sku": "SKU-1", "quantity": 2}]},
            {"order_id": "W-1002", "lines": [{"sku": "SKU-2", "quantity": 1},
                                             {"sku": "SKU-3", "quantity": 4}]},
        ],
    }  # fmt: skip
    result = load_mappings()["wms-shipment"].apply(confirmation)
    assert result.rejected == []
    shipment, *orders = result.events
    assert (shipment["type"], shipment["facility"], shipment["keys"]) == (
        "shipment.shipped",
        "DC-EAST",
        {"wms_shipment": "SH-1", "carrier_tracking": "1Z999"},
    )
    assert shipment["attributes"]["quantity"] == 7
    assert [r["keys"] for r in shipment["related"]] == [
        {"wms_order": "W-1001"},
        {"wms_order": "W-1002"},
    ]
    assert [(o["type"], o["keys"]["wms_order"], o["event_id"]) for o in orders] == [
        ("order.shipped", "W-1001", "wms:ship:SH-1:W-1001"),
        ("order.shipped", "W-1002", "wms:ship:SH-1:W-1002"),
    ]


# -- the shipped Shopify mappings on Shopify's own fixtures (../shared/vectors/webhooks) --------


def _fixture(name: str, wrapper: str) -> Any:
    """A Shopify resource fixture unwrapped: a webhook body is the inner object (SOURCES.md)."""
    return json.loads((vector_dir("webhooks") / name).read_text(encoding="utf-8"))[wrapper]


def test_shopify_order_webhook_on_the_shared_order_fixture() -> None:
    order = _fixture("shopify-rest-order.json", "order")
    result = load_mappings()["shopify-order"].apply(
        order, headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "b54557e4"}
    )
    assert result.rejected == []
    placed, fulfillment = result.events
    assert placed["type"] == "channel.order.created"
    assert placed["keys"] == {"channel_order": "450789469"}
    assert placed["occurred_at"] == "2008-01-10T11:00:00-05:00"
    assert placed["attributes"]["order_name"] == "#1001"
    assert placed["attributes"]["value"] == 409.94
    assert placed["attributes"]["skus"] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert placed["attributes"]["topic"] == "orders/create"
    # the fixture's one fulfillment has status "failure": a shipment exception, as an error
    assert (fulfillment["type"], fulfillment["status"]) == ("shipment.exception", "error")
    assert fulfillment["keys"] == {"channel_fulfillment": "255858046", "carrier_tracking": "1Z2345"}
    assert fulfillment["related"] == [
        {"object_type": "order", "keys": {"channel_order": "450789469"}}
    ]
    cancelled = order | {"cancelled_at": "2008-01-11T09:00:00-05:00", "cancel_reason": "customer"}
    types = [e["type"] for e in load_mappings()["shopify-order"].apply(cancelled).events]
    assert types == ["channel.order.created", "order.cancelled", "shipment.exception"]


def test_shopify_fulfillment_webhooks_on_the_shared_fixtures() -> None:
    mapping = load_mappings()["shopify-fulfillment"]
    (created,) = mapping.apply(_fixture("shopify-rest-fulfillment.json", "fulfillment")).events
    assert (created["type"], created["keys"]["carrier_tracking"]) == ("shipment.created", "1Z2345")
    assert created["related"] == [{"object_type": "order", "keys": {"channel_order": "450789469"}}]
    event = _fixture("shopify-rest-fulfillment_event.json", "fulfillment_event")
    (milestone,) = mapping.apply(event).events
    assert milestone["type"] == "carrier.scan"  # label_printed is no delivery milestone
    assert milestone["keys"] == {"channel_fulfillment": "2608403447971"}
    assert milestone["attributes"] == {"milestone": "label_printed"}
    (delivered,) = mapping.apply(event | {"status": "delivered"}).events
    assert delivered["type"] == "shipment.delivered"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@functools.cache
def _loaded() -> tuple[dict[str, WebhookMapping], WebhookMapping]:
    return load_mappings(), _mapping()


@settings(max_examples=200, deadline=None)
@given(payload=JSON, line=JSON)
def test_any_json_payload_yields_events_or_reasons_never_an_exception(
    payload: Any, line: Any
) -> None:
    mappings, parcel = _loaded()
    shaped = {"id": payload, "shipped": line, "orders": payload, "lines": [line, payload]}
    for mapping, body in [
        (parcel, payload),
        (parcel, shaped),
        *((m, payload) for m in mappings.values()),
    ]:
        result = mapping.apply(body)
        json.dumps(result.events)  # JSON-ready for the collector
        assert all(r.reason.startswith("event ") for r in result.rejected)


def _amazon(name: str) -> Any:
    path = vector_dir("webhooks") / f"amazon-sp-api-{name}.example.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_amazon_notifications_on_the_shared_examples() -> None:
    mapping = load_mappings()["amazon-sp-api"]
    (change,) = mapping.apply(_amazon("OrderChangeNotification")).events
    assert (change["type"], change["keys"]) == (
        "channel.order.changed",
        {"channel_order": "903-8868176-2219830"},
    )
    assert change["occurred_at"] == "2022-11-29T19:42:04.284Z"  # the change, not the delivery
    assert change["attributes"]["change_reason"] == "Buyer Requested Cancel"
    (fba,) = mapping.apply(_amazon("FBAOutboundShipmentStatusNotification")).events
    assert (fba["type"], fba["keys"], fba["related"]) == (
        "shipment.created",
        {"channel_fulfillment": "DrLqQwqvb"},
        [{"object_type": "order", "keys": {"channel_order": "113-2646096-4474645"}}],
    )
    (mcf,) = mapping.apply(_amazon("FulfillmentOrderStatusNotification")).events
    assert mcf["keys"] == {"oms_order": "SFOID2345"}
    tracking = [r["keys"] for r in mcf["related"]]
    assert tracking[0] == {"channel_fulfillment": "ASID49535"}
    assert len(tracking) == len({json.dumps(t) for t in tracking})  # repeated numbers once
    # a notification type the mapping does not cover yields nothing, and no error
    result = mapping.apply(_amazon("ShipmentTrackingMilestoneChangedNotification"))
    assert (result.events, result.rejected) == ([], [])
