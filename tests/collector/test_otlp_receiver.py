"""The OTLP/HTTP receiver against a real uvicorn server, fed by the real OpenTelemetry SDK."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from tests.adapters.otlp_payloads import otlp_json, span, trace_request, vector
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


def test_otlp_json_is_answered_in_json(client: httpx.Client, server: ThreadServer) -> None:
    request = trace_request(span("order.picked", 1, attributes={"order.id": "W-6001"}))

    response = client.post("/v1/traces", content=orjson.dumps(otlp_json(request)), headers=JSON)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}  # full success: partial_success unset
    assert [e["type"] for e in events_for(client, "W-6001")] == ["order.picked"]


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
        ("proto-example-logs", "/v1/logs"),
        ("proto-example-metrics", "/v1/metrics"),
    ]:
        for ext, headers in (("json", JSON), ("pb", PROTOBUF)):
            response = client.post(path, content=vector(f"{name}.{ext}"), headers=headers)
            assert response.status_code == 200, (name, ext, response.content)
    zipped = vector("captured-sdk-traces-gzip.pb.gz")
    gz = client.post("/v1/traces", content=zipped, headers={**PROTOBUF, "Content-Encoding": "gzip"})
    assert gz.status_code == 200

    store = server.app.state.store
    assert store.scalar("SELECT count(*) FROM spans", doing="test") == 1 + 4 + 2  # retries: once
    assert store.scalar("SELECT count(*) FROM log_records", doing="test") == 2
    assert store.scalar("SELECT count(*) FROM metric_points", doing="test") == 8
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
