"""The OTLP/HTTP receiver against a real uvicorn server, fed by the real OpenTelemetry SDK."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from tests.adapters.otlp_payloads import T0, TRACE_ID, otlp_json, span, trace_request, vector
from tests.servers import ThreadServer
from tower.settings import Settings

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def emit_order_trace(url: str, order: str, *, compression: Compression) -> None:
    """Two spans through the SDK's OTLP/HTTP exporter: an accepted order, a failed ERP post."""
    provider = TracerProvider(resource=Resource.create({"service.name": "oms-api"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.otlp")
    with tracer.start_as_current_span(
        "order accepted", attributes={"order.id": order, "http.route": "/orders"}
    ):
        with tracer.start_as_current_span(
            "erp post", attributes={"order.id": order, "erp.sales_order": f"45{order[2:]}"}
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "credit block"))
        with tracer.start_as_current_span("GET /health"):
            pass  # no key: stored, no event
    provider.shutdown()


def events_for(client: httpx.Client, key: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get("/api/v1/events", params={"key": key}).json()[
        "items"
    ]
    return items


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_sdk_spans_are_stored_and_become_order_events(
    client: httpx.Client, server: ThreadServer, compression: Compression
) -> None:
    emit_order_trace(server.url, "W-5001", compression=compression)

    events = {e["type"]: e for e in events_for(client, "W-5001")}
    assert set(events) == {"order.accepted", "erp.post"}
    failed = events["erp.post"]
    assert (failed["status"], failed["error"]) == ("error", "credit block")
    assert failed["keys"] == {"oms_order": "W-5001", "erp_sales_order": "455001"}
    assert failed["source"] == "oms-api" and failed["system"] == "oms"
    trace_id = str(failed["correlation_id"])

    spans = client.get(f"/api/v1/traces/{trace_id}").json()["items"]
    assert sorted(s["name"] for s in spans) == ["GET /health", "erp post", "order accepted"]
    assert all(s["resource"]["service.name"] == "oms-api" for s in spans)
    assert {s["scope_name"] for s in spans} == {"tests.otlp"}
    keyed = client.get("/api/v1/spans", params={"key": "455001"}).json()["items"]
    assert [(s["name"], s["status_code"]) for s in keyed] == [("erp post", "ERROR")]


@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "gzip"])
def test_otlp_json_is_answered_in_json(
    client: httpx.Client, server: ThreadServer, zipped: bool
) -> None:
    order = "W-6002" if zipped else "W-6001"
    request = trace_request(span("order.picked", 1, attributes={"order.id": order}))
    body = orjson.dumps(otlp_json(request))
    headers = {**JSON, "Content-Encoding": "gzip"} if zipped else JSON

    response = client.post(
        "/v1/traces", content=gzip.compress(body) if zipped else body, headers=headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}  # full success: partial_success unset
    (event,) = events_for(client, order)
    assert event["type"] == "order.picked"
    assert event["correlation_id"] == TRACE_ID.hex()  # the hex traceId, as sent


def test_a_bad_span_is_a_partial_success_in_the_request_encoding(
    client: httpx.Client, server: ThreadServer
) -> None:
    request = trace_request(
        span("order.packed", 1, attributes={"order.id": "W-7001"}),
        span("broken", 2, trace_id=b"\x00" * 16),
    )

    response = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "traceId is all zeros" in answer.partial_success.error_message
    store = server.app.state.store
    assert store.scalar("SELECT count(*) FROM spans", doing="test") == 1

    as_json = client.post(
        "/v1/traces", content=orjson.dumps(otlp_json(request)), headers=JSON
    ).json()
    assert as_json["partialSuccess"]["rejectedSpans"] == "1"  # int64 as a decimal string


def test_bad_log_records_and_points_are_refused_alone(
    client: httpx.Client, server: ThreadServer
) -> None:
    logs = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                scope_logs=[
                    ScopeLogs(
                        log_records=[
                            LogRecord(time_unix_nano=T0, body=AnyValue(string_value="ok")),
                            LogRecord(
                                time_unix_nano=T0,
                                body=AnyValue(string_value="bad"),
                                trace_id=b"\x01\x02\x03",
                            ),
                        ]
                    )
                ]
            )
        ]
    )
    points = [NumberDataPoint(time_unix_nano=T0, as_int=4), NumberDataPoint(as_int=5)]
    metrics = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[Metric(name="queue.depth", gauge=Gauge(data_points=points))]
                    )
                ]
            )
        ]
    )

    log_answer = client.post("/v1/logs", content=logs.SerializeToString(), headers=PROTOBUF)
    metric_answer = client.post(
        "/v1/metrics", content=json_format.MessageToJson(metrics), headers=JSON
    )

    partial = ExportLogsServiceResponse.FromString(log_answer.content).partial_success
    assert (partial.rejected_log_records, partial.error_message) == (
        1,
        "log record 1: traceId must be 16 bytes (32 hex digits), got 3",
    )
    assert metric_answer.json() == {
        "partialSuccess": {
            "rejectedDataPoints": "1",
            "errorMessage": "data point 1 of 'queue.depth': no time",
        }
    }
    store = server.app.state.store
    assert store.scalar("SELECT count(*) FROM log_records", doing="test") == 1
    assert store.scalar("SELECT count(*) FROM metric_points", doing="test") == 1


def test_a_retried_export_stores_nothing_twice(client: httpx.Client, server: ThreadServer) -> None:
    body = trace_request(span("order.shipped", 1, attributes={"order.id": "W-8001"}))
    for _ in range(3):
        assert client.post("/v1/traces", content=body.SerializeToString(), headers=PROTOBUF)

    store = server.app.state.store
    assert store.scalar("SELECT count(*) FROM spans", doing="test") == 1
    assert len(events_for(client, "W-8001")) == 1


def test_every_shared_vector_is_stored(client: httpx.Client, server: ThreadServer) -> None:
    for name, path in [
        ("proto-example-trace", "/v1/traces"),
        ("jaeger-memory-otel_traces_01", "/v1/traces"),
        ("jaeger-cassandra-otel_traces_01", "/v1/traces"),
        ("jaeger-otlp2jaeger-in", "/v1/traces"),
        ("proto-example-logs", "/v1/logs"),
        ("proto-example-events", "/v1/logs"),
        ("proto-example-metrics", "/v1/metrics"),
    ]:
        for ext, headers in (("json", JSON), ("pb", PROTOBUF)):
            response = client.post(path, content=vector(f"{name}.{ext}"), headers=headers)
            assert response.status_code == 200, (name, ext, response.content)
    plain = client.post("/v1/traces", content=vector("captured-sdk-traces.pb"), headers=PROTOBUF)
    assert plain.status_code == 200
    zipped = vector("captured-sdk-traces-gzip.pb.gz")
    gz = client.post("/v1/traces", content=zipped, headers={**PROTOBUF, "Content-Encoding": "gzip"})
    assert gz.status_code == 200

    store = server.app.state.store
    # Each span once, however often it is sent (both encodings; the cassandra fixture re-sends
    # a jaeger-memory span; otlp2jaeger-in holds one span twice): 1 + 4 + 0 + 1, then the
    # SDK's captures, 2 plain + 2 gzip.
    assert store.scalar("SELECT count(*) FROM spans", doing="test") == 1 + 4 + 0 + 1 + 2 + 2
    # Log records and points are not deduplicated: each encoding stores its own copy.
    assert store.scalar("SELECT count(*) FROM log_records", doing="test") == 2 * (1 + 1)
    assert store.scalar("SELECT count(*) FROM metric_points", doing="test") == 2 * 4
    assert {e["type"] for e in events_for(client, "W-1001")} == {
        "post.orders",
        "publish.order.created",
    }


def test_otlp_logs_answer_in_protobuf(client: httpx.Client) -> None:
    response = client.post("/v1/logs", content=vector("proto-example-logs.pb"), headers=PROTOBUF)

    assert response.status_code == 200
    assert not ExportLogsServiceResponse.FromString(response.content).HasField("partial_success")


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"{not json", JSON, 400, "body is not JSON"),
        (b"\xff\xff\xff", PROTOBUF, 400, "not a protobuf"),
        (b"\x1f\x8b\x08broken", {**PROTOBUF, "Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (b"<xml/>", {"Content-Type": "application/xml"}, 415, "not supported"),
        (b"{}", {**JSON, "Content-Encoding": "br"}, 415, "'br' is not supported"),
    ],
)
def test_errors_answer_a_status_a_client_can_act_on(
    client: httpx.Client, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    response = client.post("/v1/traces", content=body, headers=headers)

    assert response.status_code == status
    if headers["Content-Type"] == "application/x-protobuf":
        from google.rpc.status_pb2 import Status as RpcStatus

        assert message in RpcStatus.FromString(response.content).message
    else:
        assert message in response.json()["message"]


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[ThreadServer]:
    with ThreadServer(Settings(db_path=tmp_path / "small.duckdb", max_body_bytes=2000)) as running:
        yield running


def test_too_large_bodies_get_413_on_the_wire_and_inflated(small_server: ThreadServer) -> None:
    big = b" " * 5000
    with httpx.Client(base_url=small_server.url) as client:
        wire = client.post("/v1/traces", content=big, headers=JSON)
        inflated = client.post(
            "/v1/traces",
            content=gzip.compress(big),
            headers={**JSON, "Content-Encoding": "gzip"},
        )

    assert wire.status_code == inflated.status_code == 413
    assert "over the limit" in wire.json()["message"]
    assert "inflates past" in inflated.json()["message"]


def test_a_full_writer_answers_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "busy.duckdb", writer_queue_max_events=0)
    body = trace_request(span("x", 1, attributes={"order.id": "W-1"})).SerializeToString()
    with ThreadServer(settings) as busy, httpx.Client(base_url=busy.url) as client:
        response = client.post("/v1/traces", content=body, headers=PROTOBUF)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


def test_a_stopped_writer_answers_503_with_retry_after_in_the_request_encoding(
    server: ThreadServer,
) -> None:
    server.app.state.collector.writer.stop()  # as at shutdown: nothing more can be committed
    body = trace_request(span("order.packed", 1, attributes={"order.id": "W-7201"}))
    with httpx.Client(base_url=server.url) as client:
        response = client.post("/v1/traces", content=body.SerializeToString(), headers=PROTOBUF)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    from google.rpc.status_pb2 import Status as RpcStatus

    assert "writer is not running" in RpcStatus.FromString(response.content).message


def test_a_failed_commit_answers_503_with_retry_after(server: ThreadServer) -> None:
    # Metric points go straight to their table (no event, no writer): take the table away and
    # DuckDB itself refuses the commit, as it would on a failing disk.
    store = server.app.state.store
    with store.transaction(doing="test: hide metric_points", lane="telemetry") as con:
        con.execute("ALTER TABLE metric_points RENAME TO metric_points_hidden")
    with httpx.Client(base_url=server.url) as client:
        response = client.post(
            "/v1/metrics", content=vector("proto-example-metrics.json"), headers=JSON
        )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "storing 4 points" in response.json()["message"]


def test_telemetry_requests_and_records_are_counted_in_metrics(client: httpx.Client) -> None:
    request = trace_request(
        span("order.packed", 1, attributes={"order.id": "W-7101"}),
        span("broken", 2, trace_id=b"\x00" * 16),
    )
    client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
    client.post("/v1/traces", content=b"not protobuf", headers=PROTOBUF)

    text = client.get("/metrics").text
    assert 'tower_telemetry_requests_total{adapter="otlp.traces",status="200"} 1.0' in text
    assert 'tower_telemetry_requests_total{adapter="otlp.traces",status="400"} 1.0' in text
    assert 'tower_telemetry_records_total{adapter="otlp.traces",outcome="stored"} 1.0' in text
    assert 'tower_telemetry_records_total{adapter="otlp.traces",outcome="rejected"} 1.0' in text
