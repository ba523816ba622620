"""OTLP requests built in tests with the opentelemetry-proto classes, and the shared vectors."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "otlp"
TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
T0 = 1_795_425_300_000_000_000  # 2026-11-23T09:15:00Z in Unix nanoseconds


def vector(name: str) -> bytes:
    """A shared OTLP vector, read in place; the test skips when ../shared is not there."""
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"OTLP vectors not found at {VECTORS} (the shared folder beside the repo)")
    return path.read_bytes()


def kv(key: str, value: str | int | float | bool) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def span(
    name: str,
    n: int,
    *,
    attributes: dict[str, Any] | None = None,
    error: str | None = None,
    trace_id: bytes = TRACE_ID,
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=n.to_bytes(8, "big"),
        name=name,
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=T0 + n * 1_000_000,
        end_time_unix_nano=T0 + n * 1_000_000 + 500_000,
        attributes=[kv(k, v) for k, v in (attributes or {}).items()],
        status=Status(code=Status.STATUS_CODE_ERROR, message=error) if error else Status(),
    )


def trace_request(*spans: Span, service: str = "oms-api") -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource={"attributes": [kv("service.name", service)]},
                scope_spans=[ScopeSpans(scope={"name": "tests", "version": "1"}, spans=spans)],
            )
        ]
    )


def otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """A request as OTLP/JSON: lowerCamel names, hex ids (not proto3 JSON's base64)."""
    doc = json_format.MessageToDict(request)
    for resource in doc.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for item in scope.get("spans", []):
                for name in ("traceId", "spanId", "parentSpanId"):
                    if name in item:
                        item[name] = base64.b64decode(item[name]).hex()
    return doc
