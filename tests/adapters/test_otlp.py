"""adapters.otlp: OTLP/HTTP bodies (shared vectors and built payloads) to records."""

from __future__ import annotations

import gzip

import orjson
import pytest

from adapters.otlp import (
    Encoding,
    OtlpDecodeError,
    decode_logs,
    decode_metrics,
    decode_traces,
    encoding_of,
)
from tests.adapters.otlp_payloads import otlp_json, span, trace_request, vector

TRACE_VECTORS = [
    ("proto-example-trace", 1),
    ("jaeger-otlp2jaeger-in", 2),
    ("jaeger-memory-otel_traces_01", 4),
    ("jaeger-cassandra-otel_traces_01", 1),
]


@pytest.mark.parametrize(("name", "count"), TRACE_VECTORS)
def test_trace_vectors_decode_alike_in_json_and_protobuf(name: str, count: int) -> None:
    from_json, rejected_json = decode_traces(vector(f"{name}.json"), Encoding.JSON)
    from_pb, rejected_pb = decode_traces(vector(f"{name}.pb"), Encoding.PROTOBUF)

    assert len(from_json) == count
    assert rejected_json == rejected_pb == []
    assert from_json == from_pb


def test_the_proto_example_span_keeps_ids_resource_and_scope() -> None:
    (one,), _ = decode_traces(vector("proto-example-trace.json"), Encoding.JSON)

    assert one.trace_id == "5b8efff798038103d269b633813fc60c"  # upper-case hex, read
    assert one.span_id == "eee19b7ec3c1b174"
    assert one.parent_span_id == "eee19b7ec3c1b173"
    assert one.kind == "SERVER"
    assert one.start_ns == 1544712660000000000
    assert one.attributes == {"my.span.attr": "some value"}
    assert one.scope.resource == {"service.name": "my.service"}
    assert (one.scope.name, one.scope.version) == ("my.library", "1.0.0")
    assert one.scope.attributes == {"my.scope.attribute": "some scope attribute"}


def test_the_cassandra_fixture_keeps_status_links_events_and_bytes() -> None:
    (one,), _ = decode_traces(vector("jaeger-cassandra-otel_traces_01.json"), Encoding.JSON)

    assert one.status_code == "ERROR"
    assert one.trace_state == "some-state"
    assert one.attributes["blob"] == "AAAwOQ=="  # bytes as base64 text
    assert one.attributes["peer.ipv4"] == 23456
    assert len(one.links) == 2
    assert [e["name"] for e in one.events] == ["", "testing-event"]


def test_the_captured_sdk_body_decodes_plain_and_gzipped() -> None:
    plain, _ = decode_traces(vector("captured-sdk-traces.pb"), Encoding.PROTOBUF)
    zipped, _ = decode_traces(
        gzip.decompress(vector("captured-sdk-traces-gzip.pb.gz")), Encoding.PROTOBUF
    )

    assert {s.name for s in plain} == {"POST /orders", "publish order.created"}
    assert [s.name for s in plain] == [s.name for s in zipped]  # a second run: new ids
    publish = next(s for s in plain if s.kind == "PRODUCER")
    assert publish.attributes["erp.sales_order"] == "4500012"
    assert publish.events[0]["attributes"] == {"queue.depth": 17}
    assert publish.scope.service_name == "oms-api"


@pytest.mark.parametrize("name", ["proto-example-logs", "proto-example-events"])
def test_log_vectors_decode_alike(name: str) -> None:
    from_json, _ = decode_logs(vector(f"{name}.json"), Encoding.JSON)
    from_pb, _ = decode_logs(vector(f"{name}.pb"), Encoding.PROTOBUF)

    assert len(from_json) == 1
    assert from_json == from_pb


def test_log_record_values_of_every_kind() -> None:
    (record,), _ = decode_logs(vector("proto-example-logs.json"), Encoding.JSON)

    assert record.body == "Example log record"
    assert record.trace_id == "5b8efff798038103d269b633813fc60c"
    assert record.attributes["array.attribute"] == ["many", "values"]
    assert record.attributes["map.attribute"] == {"some.map.key": "some value"}
    assert record.source == "my.service"


def test_event_records_keep_their_event_name() -> None:
    (record,), _ = decode_logs(vector("proto-example-events.json"), Encoding.JSON)

    assert record.event_name == "browser.page_view"
    assert record.trace_id is None


def test_metric_vectors_give_every_point() -> None:
    from_json, _ = decode_metrics(vector("proto-example-metrics.json"), Encoding.JSON)
    from_pb, _ = decode_metrics(vector("proto-example-metrics.pb"), Encoding.PROTOBUF)

    assert from_json == from_pb
    assert [p.kind for p in from_json] == ["sum", "gauge", "histogram", "exponential_histogram"]
    assert from_json[0].value == 5.0
    assert from_json[2].value is None and from_json[2].data["count"] == "2"


def test_built_requests_round_trip_in_both_encodings() -> None:
    request = trace_request(span("pick", 1, attributes={"order.id": "W-1", "qty": 3}))
    from_pb, _ = decode_traces(request.SerializeToString(), Encoding.PROTOBUF)
    from_json, _ = decode_traces(orjson.dumps(otlp_json(request)), Encoding.JSON)

    assert from_pb == from_json
    assert from_pb[0].attributes == {"order.id": "W-1", "qty": 3}


def test_a_span_with_a_bad_id_is_refused_alone() -> None:
    request = trace_request(span("good", 1), span("bad", 2, trace_id=b"\x01" * 8), span("ok", 3))

    spans, rejected = decode_traces(request.SerializeToString(), Encoding.PROTOBUF)

    assert [s.name for s in spans] == ["good", "ok"]
    assert [r.index for r in rejected] == [1]
    assert "traceId must be 16 bytes" in rejected[0].reason


def test_unknown_json_fields_are_ignored() -> None:
    doc = otlp_json(trace_request(span("a", 1)))
    doc["somethingNew"] = {"x": 1}
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["futureField"] = 7

    spans, _ = decode_traces(orjson.dumps(doc), Encoding.JSON)

    assert [s.name for s in spans] == ["a"]


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (b"not json", Encoding.JSON, "body is not JSON"),
        (b"[1, 2]", Encoding.JSON, "not a JSON ExportTraceServiceRequest"),
        (b'{"resourceSpans": 5}', Encoding.JSON, "not an OTLP/JSON"),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
            Encoding.JSON,
            "hex",
        ),
        (b"\xff\xff\xff\xff", Encoding.PROTOBUF, "not a protobuf"),
    ],
)
def test_undecodable_bodies_raise(body: bytes, encoding: Encoding, message: str) -> None:
    with pytest.raises(OtlpDecodeError, match=message):
        decode_traces(body, encoding)


def test_an_empty_body_is_an_empty_request() -> None:
    assert decode_traces(b"", Encoding.PROTOBUF) == ([], [])
    assert decode_traces(b"{}", Encoding.JSON) == ([], [])


def test_encoding_by_content_type() -> None:
    assert encoding_of("application/x-protobuf") is Encoding.PROTOBUF
    assert encoding_of("Application/JSON; charset=utf-8") is Encoding.JSON
    assert encoding_of("text/plain") is None
    assert encoding_of(None) is None
