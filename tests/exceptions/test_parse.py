"""Reading the management API's messages: x-death, ids, keys from headers and body (pure)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from adapters.logs import load_log_rules
from exceptions.deadletters import parse_messages

RULES = load_log_rules()
DIED = 1795420800  # 2026-11-23 08:00 UTC


def _message(**overrides: object) -> dict[str, object]:
    message: dict[str, object] = {
        "payload": "Order W-1001 failed: unknown SKU 77",
        "payload_encoding": "string",
        "exchange": "orders.dlx",
        "routing_key": "orders.in",
        "properties": {
            "headers": {
                "x-death": [  # newest first: the message died twice
                    {
                        "count": 1,
                        "reason": "expired",
                        "queue": "orders.retry",
                        "time": DIED + 60,
                        "exchange": "orders.retry-x",
                        "routing-keys": ["retry"],
                    },
                    {
                        "count": 1,
                        "reason": "rejected",
                        "queue": "orders.in",
                        "time": DIED,
                        "exchange": "orders",
                        "routing-keys": ["order.created"],
                    },
                ],  # fmt: skip
                "x-first-death-exchange": "orders",
                "MT-Fault-Message": "SKU 77 unknown",
                "partner": "ACME",
            },
        },
    }
    message.update(overrides)
    return message


def test_the_first_death_gives_where_to_replay_and_text_gives_keys() -> None:
    [letter], refused = parse_messages(
        [_message()], broker="http://mq:15672", vhost="/", queue="orders.dlq", rules=RULES
    )
    assert refused == []
    assert (letter.exchange, letter.routing_key, letter.from_queue) == (
        "orders",
        "order.created",
        "orders.in",
    )
    assert (letter.reason, letter.deaths) == ("rejected", 2)
    assert letter.died_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert letter.error == "rejected: SKU 77 unknown"
    assert letter.keys == {"oms_order": "W-1001"}
    assert (letter.object_type, letter.partner) == ("order", "ACME")
    # no message id: its content names it, the same on every read
    assert letter.message_id.startswith("sha256:")
    [again], _ = parse_messages(
        [_message()], broker="http://mq:15672", vhost="/", queue="orders.dlq", rules=RULES
    )
    assert again.message_ref == letter.message_ref


def test_keys_from_properties_headers_and_a_base64_json_body() -> None:
    body = base64.b64encode(b'{"salesOrder": "4500012", "facility": "DC-EU"}').decode()
    props = {"message_id": "m-9", "correlation_id": "c-9", "headers": {"orderId": "W-9"}}
    [letter], _ = parse_messages(
        [_message(payload=body, payload_encoding="base64", properties=props)],
        broker="b",
        vhost="/",
        queue="q",
        rules=RULES,
    )
    assert letter.keys == {
        "mw_message": "m-9",
        "correlation": "c-9",
        "oms_order": "W-9",
        "erp_sales_order": "4500012",
    }
    assert (letter.facility, letter.reason, letter.exchange) == ("DC-EU", "unknown", "orders.dlx")


def test_an_unreadable_item_is_refused_by_position_and_the_rest_kept() -> None:
    letters, refused = parse_messages(
        [_message(), "junk", {"properties": []}], broker="b", vhost="/", queue="q", rules=RULES
    )
    assert len(letters) == 1
    assert [(r.index, r.reason) for r in refused] == [
        (1, "not a message object with properties"),
        (2, "not a message object with properties"),
    ]
