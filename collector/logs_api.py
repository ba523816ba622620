"""Log lines in (POST /api/v1/logs) and spans out (a trace, the spans of a key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field

from collector import telemetry_reads
from collector.api import _request_id
from collector.exceptions import BadBody, UnsupportedContentType
from collector.ingest import NDJSON_TYPES
from collector.pipeline import read_limited
from collector.telemetry import Telemetry
from tower.model import IngestResult

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["logs and spans"])

LOG_TYPES = {"text/plain", "", *NDJSON_TYPES}
LOG_BODY = {
    "requestBody": {
        "required": True,
        "description": "Log lines: plain text, or NDJSON log records (one JSON object per line). "
        "Content-Encoding: gzip is accepted.",
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


class LogIngestResult(BaseModel):
    records: int = Field(description="Log records stored (continuation lines are folded in).")
    events: IngestResult = Field(description="Events derived from keyed error records.")


class SpanList(BaseModel):
    items: list[dict[str, Any]]


@router.post("/logs", response_model=LogIngestResult, openapi_extra=LOG_BODY)
async def post_logs(
    request: Request,
    response: Response,
    source: Annotated[
        str | None, Query(max_length=128, description="The emitting source, e.g. erp.s4.")
    ] = None,
    x_tower_source: Annotated[str | None, Header(max_length=128)] = None,
) -> LogIngestResult:
    """Store log lines; error lines that carry a key also become events on that journey."""
    telemetry: Telemetry = request.app.state.telemetry
    request_id = _request_id(request.headers.get("x-request-id"))
    content_type = request.headers.get("content-type")
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in LOG_TYPES:
        raise UnsupportedContentType(
            f"Content-Type {media!r} is not supported; send text/plain (log lines) or "
            "application/x-ndjson (JSON log records)",
            headers={"X-Request-ID": request_id},
        )
    given = source or x_tower_source
    if not given:
        raise BadBody(
            "say which source the lines come from: header X-Tower-Source or query ?source=",
            headers={"X-Request-ID": request_id},
        )
    raw = await read_limited(
        request.stream(),
        content_length=request.headers.get("content-length"),
        max_bytes=telemetry.max_body_bytes,
    )
    receipt = await telemetry.receive(
        "log",
        raw,
        request_id=request_id,
        content_type=content_type,
        content_encoding=request.headers.get("content-encoding"),
        source=given,
    )
    response.headers["X-Request-ID"] = request_id
    return LogIngestResult(records=receipt.records, events=receipt.events)


@router.get("/traces/{trace_id}", response_model=SpanList)
def get_trace(
    request: Request,
    trace_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> SpanList:
    """Every span of one trace (32 hex digits), in start order."""
    telemetry: Telemetry = request.app.state.telemetry
    return SpanList(
        items=telemetry_reads.trace_spans(store=telemetry.store, trace_id=trace_id, limit=limit)
    )


@router.get("/spans", response_model=SpanList)
def get_spans(
    request: Request,
    key: Annotated[str, Query(min_length=1, description="Any identifier value, e.g. W-1001.")],
    namespace: Annotated[str | None, Query(description="Limit `key` to one namespace.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> SpanList:
    """Spans whose derived events carry this key: the spans of a journey's object."""
    telemetry: Telemetry = request.app.state.telemetry
    return SpanList(
        items=telemetry_reads.spans_for_key(
            store=telemetry.store, key=key, namespace=namespace, limit=limit
        )
    )
