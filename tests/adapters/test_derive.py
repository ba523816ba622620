"""adapters.derive: spans and log records become canonical events by the attribute rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.derive import OtlpRules, load_otlp_rules, log_event, span_event
from adapters.otlp import Encoding, decode_traces
from adapters.records import LogRecord, Scope
from tests.adapters.otlp_payloads import T0, span, trace_request, vector
from tower.model import Event
from tower.yamlfile import ConfigFileError


@pytest.fixture(scope="module")
def rules() -> OtlpRules:
    return load_otlp_rules()


def derive(rules: OtlpRules, *spans: object) -> list[Event | None]:
    decoded, _ = decode_traces(trace_request(*spans).SerializeToString(), Encoding.PROTOBUF)  # type: ignore[arg-type]
    return [span_event(s, rules) for s in decoded]


def test_the_captured_sdk_spans_become_order_events(rules: OtlpRules) -> None:
    spans, _ = decode_traces(vector("captured-sdk-traces.pb"), Encoding.PROTOBUF)
    events = {e.type: e for e in (span_event(s, rules) for s in spans) if e is not None}

    publish = events["publish.order.created"]
    assert publish.object_type == "order"
    assert publish.keys == {
        "oms_order": "W-1001",
        "erp_sales_order": "4500012",
        "correlation": "c0ffee00-1001",
    }
    assert publish.correlation_id == "7384eada1ef0bd2526ba2c4feac35f29"
    assert (publish.source, publish.system, publish.status) == ("oms-api", "oms", "ok")
    assert publish.attributes["messaging.destination.name"] == "orders.created"
    assert "order.id" not in publish.attributes  # consumed as a key
    assert events["post.orders"].keys["oms_order"] == "W-1001"


def test_an_error_span_is_an_error_event_with_its_message(rules: OtlpRules) -> None:
    (event,) = derive(
        rules, span("erp.post", 1, attributes={"erp.sales_order": "4500012"}, error="credit block")
    )

    assert event is not None
    assert (event.status, event.error) == ("error", "credit block")
    assert event.event_id == "span:5b8efff798038103d269b633813fc60c:0000000000000001"
    assert event.occurred_at.isoformat() == "2026-11-23T09:15:00.001500+00:00"


def test_a_span_without_keys_yields_nothing(rules: OtlpRules) -> None:
    assert derive(rules, span("GET /health", 1, attributes={"http.route": "/health"})) == [None]


def test_type_and_system_attributes_win(rules: OtlpRules) -> None:
    (event,) = derive(
        rules,
        span(
            "handler",
            1,
            attributes={
                "order.id": "W-9",
                "tower.event.type": "order.picked",
                "tower.system": "wms",
            },
        ),
    )

    assert event is not None
    assert (event.type, event.system) == ("order.picked", "wms")


def test_keys_of_another_object_type_become_related(rules: OtlpRules) -> None:
    (event,) = derive(
        rules,
        span(
            "ship",
            1,
            attributes={
                "wms.shipment_id": "SH-77",
                "order.id": "W-1",
                "messaging.message.id": "m1",
            },
        ),
    )

    assert event is not None
    assert event.object_type == "order"  # order.id comes first in the rules
    assert event.keys == {"oms_order": "W-1", "mw_message": "m1"}
    assert event.related == [{"object_type": "shipment", "keys": {"wms_shipment": "SH-77"}}]


def test_only_transport_ids_take_the_default_object_type(rules: OtlpRules) -> None:
    (event,) = derive(rules, span("consume", 1, attributes={"messaging.message.id": "m-7"}))

    assert event is not None
    assert (event.object_type, event.keys) == ("order", {"mw_message": "m-7"})


def record(severity: int, **fields: object) -> LogRecord:
    base: dict[str, object] = {
        "time_ns": T0,
        "observed_ns": None,
        "severity_number": severity,
        "severity_text": None,
        "body": "posting failed",
        "attributes": {"order.id": "W-5"},
        "scope": Scope(resource={"service.name": "erp-s4"}),
    }
    base.update(fields)
    return LogRecord(**base)  # type: ignore[arg-type]


def test_error_logs_with_keys_are_error_events_others_not_by_default(rules: OtlpRules) -> None:
    error = log_event(record(17), rules, received_ns=T0)
    info = log_event(record(9), rules, received_ns=T0)

    assert error is not None
    assert (error.type, error.status, error.error) == ("log.error", "error", "posting failed")
    assert (error.system, error.keys) == ("erp", {"oms_order": "W-5"})
    assert info is None
    assert log_event(record(9), rules, received_ns=T0, events="keyed") is not None


def test_a_bad_rules_file_names_file_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "otlp.yaml"
    path.write_text("keys:\n  - attribute: order.id\n    namespace: Not-A-Namespace\n")

    with pytest.raises(ConfigFileError) as caught:
        load_otlp_rules(path)

    assert f"{path}:3" in str(caught.value)
    assert "keys.0.namespace" in str(caught.value)
