"""OTLP/HTTP payloads to records: pure functions over bytes, no I/O.

Both encodings of the specification are read with the opentelemetry-proto classes: binary
protobuf (application/x-protobuf) with ParseFromString, and OTLP/JSON (application/json) with
google.protobuf.json_format once the spec's hex trace and span ids are turned into the bytes the
proto3 JSON mapping expects. Unknown JSON fields are ignored, as the specification requires.
Records with malformed ids are refused one by one (partial success); a payload that cannot be
decoded at all raises OtlpDecodeError (HTTP 400).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from adapters.records import LogRecord, MetricPoint, Rejected, Scope, Span

__all__ = [
    "Encoding",
    "OtlpDecodeError",
    "decode_logs",
    "decode_metrics",
    "decode_traces",
    "encoding_of",
]

SPAN_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODES = ("UNSET", "OK", "ERROR")
# Where OTLP/JSON carries hex ids, per signal: a path of list members to the records, then the
# id fields of each record (and of its nested lists).
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class OtlpDecodeError(ValueError):
    """The payload as a whole is not a decodable OTLP request."""


class Encoding(StrEnum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


def encoding_of(content_type: str | None) -> Encoding | None:
    """The OTLP encoding a Content-Type names, or None when it is not one."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("application/x-protobuf", "application/protobuf"):
        return Encoding.PROTOBUF
    if media == "application/json":
        return Encoding.JSON
    return None


def decode_traces(payload: bytes, encoding: Encoding) -> tuple[list[Span], list[Rejected]]:
    """Spans of an ExportTraceServiceRequest, and the spans refused (bad ids)."""
    request = ExportTraceServiceRequest()
    _parse(payload, encoding, request, _trace_json_ids)
    spans: list[Span] = []
    rejected: list[Rejected] = []
    index = 0
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = _scope(resource, scope_spans.scope)
            for span in scope_spans.spans:
                reason = _id_problem(span.trace_id, "traceId", 16, required=True) or _id_problem(
                    span.span_id, "spanId", 8, required=True
                )
                if reason:
                    rejected.append(Rejected(index, f"span {index} ({span.name!r}): {reason}"))
                else:
                    spans.append(_span(span, scope))
                index += 1
    return spans, rejected


def decode_logs(payload: bytes, encoding: Encoding) -> tuple[list[LogRecord], list[Rejected]]:
    """Log records of an ExportLogsServiceRequest, and the records refused (bad ids)."""
    request = ExportLogsServiceRequest()
    _parse(payload, encoding, request, _logs_json_ids)
    records: list[LogRecord] = []
    rejected: list[Rejected] = []
    index = 0
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = _scope(resource, scope_logs.scope)
            for log in scope_logs.log_records:
                reason = _id_problem(log.trace_id, "traceId", 16) or _id_problem(
                    log.span_id, "spanId", 8
                )
                if reason:
                    rejected.append(Rejected(index, f"log record {index}: {reason}"))
                else:
                    records.append(
                        LogRecord(
                            time_ns=log.time_unix_nano or None,
                            observed_ns=log.observed_time_unix_nano or None,
                            severity_number=int(log.severity_number),
                            severity_text=log.severity_text or None,
                            body=any_value(log.body),
                            attributes=attributes(log.attributes),
                            scope=scope,
                            trace_id=log.trace_id.hex() or None,
                            span_id=log.span_id.hex() or None,
                            event_name=log.event_name or None,
                            source=scope.service_name,
                            extractor="otlp",
                        )
                    )
                index += 1
    return records, rejected


def decode_metrics(payload: bytes, encoding: Encoding) -> tuple[list[MetricPoint], list[Rejected]]:
    """Data points of an ExportMetricsServiceRequest, and the points refused (no time)."""
    request = ExportMetricsServiceRequest()
    _parse(payload, encoding, request, _metrics_json_ids)
    points: list[MetricPoint] = []
    rejected: list[Rejected] = []
    index = 0
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            scope = _scope(resource, scope_metrics.scope)
            for metric in scope_metrics.metrics:
                for point in _metric_points(metric, scope):
                    if point.time_ns <= 0:
                        rejected.append(
                            Rejected(index, f"data point {index} of {point.name!r}: no time")
                        )
                    else:
                        points.append(point)
                    index += 1
    return points, rejected


# -- protobuf values to Python -------------------------------------------------------------------


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as a JSON-ready Python value (bytes as base64 text)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """A repeated KeyValue as a dict; a repeated key keeps its last value."""
    return {kv.key: any_value(kv.value) for kv in pairs}


def _scope(resource: dict[str, Any], scope: Any) -> Scope:
    return Scope(
        resource=resource,
        name=scope.name or None,
        version=scope.version or None,
        attributes=attributes(scope.attributes),
    )


def _span(span: Any, scope: Scope) -> Span:
    return Span(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        name=span.name,
        kind=_enum_name(SPAN_KINDS, span.kind),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        status_code=_enum_name(STATUS_CODES, span.status.code),
        status_message=span.status.message or None,
        attributes=attributes(span.attributes),
        scope=scope,
        trace_state=span.trace_state or None,
        flags=span.flags,
        events=[
            {
                "time_unix_nano": e.time_unix_nano,
                "name": e.name,
                "attributes": attributes(e.attributes),
            }
            for e in span.events
        ],
        links=[
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "trace_state": link.trace_state or None,
                "attributes": attributes(link.attributes),
            }
            for link in span.links
        ],
    )


def _metric_points(metric: Any, scope: Scope) -> Iterator[MetricPoint]:
    kind = metric.WhichOneof("data")
    if kind is None:
        return
    data = getattr(metric, kind)
    extra: dict[str, Any] = {}
    if kind == "sum":
        extra = {"is_monotonic": data.is_monotonic}
    if kind != "gauge" and kind != "summary":
        extra["aggregation_temporality"] = int(data.aggregation_temporality)
    for point in data.data_points:
        value: float | None = None
        details = dict(extra)
        if kind in ("gauge", "sum"):
            which = point.WhichOneof("value")
            value = float(getattr(point, which)) if which else None
        else:
            details.update(json_format.MessageToDict(point, preserving_proto_field_name=True))
            for name in ("attributes", "time_unix_nano", "start_time_unix_nano", "exemplars"):
                details.pop(name, None)
        yield MetricPoint(
            name=metric.name,
            kind=kind,
            time_ns=point.time_unix_nano,
            start_ns=point.start_time_unix_nano or None,
            value=value,
            attributes=attributes(point.attributes),
            scope=scope,
            description=metric.description or None,
            unit=metric.unit or None,
            data=details,
        )


def _enum_name(names: tuple[str, ...], number: int) -> str:
    return names[number] if 0 <= number < len(names) else str(number)


def _id_problem(raw: bytes, name: str, size: int, *, required: bool = False) -> str | None:
    if not raw:
        return f"{name} is missing" if required else None
    if len(raw) != size:
        return f"{name} must be {size} bytes ({size * 2} hex digits), got {len(raw)}"
    if not any(raw):
        return f"{name} is all zeros"
    return None


# -- decoding ------------------------------------------------------------------------------------


def _parse(payload: bytes, encoding: Encoding, message: Message, fix_ids: Any) -> None:
    if encoding is Encoding.PROTOBUF:
        try:
            message.ParseFromString(payload)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise OtlpDecodeError(f"body is not a protobuf {_name(message)}: {exc}") from exc
        return
    try:
        doc = orjson.loads(payload) if payload.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise OtlpDecodeError(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise OtlpDecodeError(f"body is not a JSON {_name(message)} object")
    fix_ids(doc)
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OtlpDecodeError(f"body is not an OTLP/JSON {_name(message)}: {exc}") from exc


def _name(message: Message) -> str:
    return str(message.DESCRIPTOR.name)


def _items(node: Any, *path: str) -> Iterator[dict[str, Any]]:
    """Every object at the end of a path of list members (anything malformed is skipped)."""
    if not path:
        if isinstance(node, dict):
            yield node
        return
    members = node.get(path[0]) if isinstance(node, dict) else None
    if isinstance(members, list):
        for member in members:
            yield from _items(member, *path[1:])


def _hex_to_base64(record: dict[str, Any], where: str) -> None:
    for name in _ID_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value:
            try:
                record[name] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            except ValueError as exc:
                raise OtlpDecodeError(f"{where}.{name}: {value!r} is not hex") from exc
        elif value is not None and not isinstance(value, str):
            raise OtlpDecodeError(f"{where}.{name}: must be a hex string")


def _trace_json_ids(doc: dict[str, Any]) -> None:
    for span in _items(doc, "resourceSpans", "scopeSpans", "spans"):
        _hex_to_base64(span, "span")
        for link in _items(span, "links"):
            _hex_to_base64(link, "span link")


def _logs_json_ids(doc: dict[str, Any]) -> None:
    for record in _items(doc, "resourceLogs", "scopeLogs", "logRecords"):
        _hex_to_base64(record, "logRecord")


def _metrics_json_ids(doc: dict[str, Any]) -> None:
    for metric in _items(doc, "resourceMetrics", "scopeMetrics", "metrics"):
        for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
            data = metric.get(kind)
            for exemplar in _items(data, "dataPoints", "exemplars"):
                _hex_to_base64(exemplar, "exemplar")
