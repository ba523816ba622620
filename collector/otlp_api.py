"""The OTLP/HTTP receiver: POST /v1/traces, /v1/logs and /v1/metrics, as the spec says.

Binary protobuf or OTLP/JSON in, the Export*ServiceResponse out in the request's encoding, with
partial_success when records were refused. Failures answer a google.rpc.Status (in the request's
encoding; JSON when the Content-Type is not OTLP): 400 undecodable, 413 too large, 415 unknown
Content-Type or Content-Encoding, 429/503 with Retry-After when the tower is busy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from adapters.otlp import Encoding, encoding_of
from collector.api import _request_id
from collector.exceptions import UnsupportedContentType
from collector.metrics import IngestMetrics
from collector.pipeline import read_limited
from collector.telemetry import Receipt, Telemetry
from tower.exceptions import TowerError

__all__ = ["router"]

router = APIRouter(tags=["opentelemetry"])

MAX_MESSAGE = 4000
GRPC_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.INVALID_ARGUMENT,
    429: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
}


def _body(description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description + " Content-Encoding: gzip is accepted.",
            "content": {
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    }


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Export*ServiceResponse; partial_success lists refused records."},
    400: {"description": "Undecodable body (google.rpc.Status); do not retry."},
    413: {"description": "Body over the limit, on the wire or inflated."},
    415: {"description": "Content-Type or Content-Encoding not supported."},
    429: {"description": "Busy; retry after Retry-After seconds."},
    503: {"description": "Writer stopped or storage failed; retry after Retry-After seconds."},
}


@router.post(
    "/v1/traces",
    openapi_extra=_body("An OTLP ExportTraceServiceRequest."),
    responses=RESPONSES,
    response_class=Response,
)
async def export_traces(request: Request) -> Response:
    """Receive OpenTelemetry spans; spans with business keys also become events."""
    return await _export(request, "otlp.traces", ExportTraceServiceResponse(), "rejected_spans")


@router.post(
    "/v1/logs",
    openapi_extra=_body("An OTLP ExportLogsServiceRequest."),
    responses=RESPONSES,
    response_class=Response,
)
async def export_logs(request: Request) -> Response:
    """Receive OpenTelemetry log records; keyed error records also become events."""
    return await _export(request, "otlp.logs", ExportLogsServiceResponse(), "rejected_log_records")


@router.post(
    "/v1/metrics",
    openapi_extra=_body("An OTLP ExportMetricsServiceRequest."),
    responses=RESPONSES,
    response_class=Response,
)
async def export_metrics(request: Request) -> Response:
    """Receive OpenTelemetry metric data points."""
    return await _export(
        request, "otlp.metrics", ExportMetricsServiceResponse(), "rejected_data_points"
    )


async def _export(request: Request, adapter: str, answer: Message, rejected_field: str) -> Response:
    telemetry: Telemetry = request.app.state.telemetry
    metrics: IngestMetrics = request.app.state.collector.metrics
    request_id = _request_id(request.headers.get("x-request-id"))
    content_type = request.headers.get("content-type")
    encoding = encoding_of(content_type)
    try:
        if encoding is None:
            raise UnsupportedContentType(
                f"Content-Type {content_type!r} is not supported; send application/x-protobuf "
                "or application/json (OTLP/JSON)"
            )
        raw = await read_limited(
            request.stream(),
            content_length=request.headers.get("content-length"),
            max_bytes=telemetry.max_body_bytes,
        )
        receipt = await telemetry.receive(
            adapter,
            raw,
            request_id=request_id,
            content_type=content_type,
            content_encoding=request.headers.get("content-encoding"),
        )
    except TowerError as exc:
        metrics.telemetry_requests.labels(adapter=adapter, status=str(exc.status_code)).inc()
        retry_after = telemetry.writer.retry_after_seconds
        return _failure(exc, encoding or Encoding.JSON, request_id, retry_after=retry_after)
    metrics.telemetry_requests.labels(adapter=adapter, status="200").inc()
    metrics.telemetry_records.labels(adapter=adapter, outcome="stored").inc(receipt.records)
    metrics.telemetry_records.labels(adapter=adapter, outcome="rejected").inc(len(receipt.rejected))
    message = _message(receipt)
    if receipt.rejected or message:
        partial = getattr(answer, "partial_success")  # noqa: B009  (field of the message)
        setattr(partial, rejected_field, len(receipt.rejected))
        partial.error_message = message
    return _encode(answer, encoding, 200, {"X-Request-ID": request_id})


def _message(receipt: Receipt) -> str:
    """Why records were refused; derived events refused are a warning (nothing rejected)."""
    parts = [r.reason for r in receipt.rejected] + receipt.event_problems
    text = "; ".join(parts)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def _failure(exc: TowerError, encoding: Encoding, request_id: str, *, retry_after: int) -> Response:
    status = status_pb2.Status(
        code=GRPC_CODES.get(exc.status_code, code_pb2.INTERNAL), message=exc.detail
    )
    if exc.status_code == 400:
        violation = error_details_pb2.BadRequest.FieldViolation(
            field="body", description=exc.detail
        )
        status.details.add().Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    headers = {**exc.headers, "X-Request-ID": request_id}
    if exc.status_code in (429, 503) and "Retry-After" not in headers:
        # A failed commit (disk full, I/O error) carries no hint of its own; exporters back off
        # by Retry-After, as the spec asks, instead of their own schedule.
        headers["Retry-After"] = str(retry_after)
    return _encode(status, encoding, exc.status_code, headers)


def _encode(message: Message, encoding: Encoding, status: int, headers: dict[str, str]) -> Response:
    if encoding is Encoding.PROTOBUF:
        body = message.SerializeToString()
    else:
        body = json_format.MessageToJson(message, indent=None).encode()
    return Response(body, status_code=status, media_type=encoding.value, headers=headers)
