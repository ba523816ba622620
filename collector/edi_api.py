"""EDI intake: POST /api/v1/edi takes an X12 or EDIFACT interchange and stores its events.

The body's first segment says which: ISA is X12, UNA or UNB is EDIFACT. The adapter
(adapters/x12.py or adapters/edifact.py, through the registry) turns the documents into events;
they are validated and committed exactly like posted events (collector.ingest.validate and the
single writer). A refused document is kept in the rejects with its reason and the raw
interchange; a body that is neither is refused whole (400) and kept the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pyarrow as pa
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from adapters.derive import event_dicts
from adapters.edifact import EdifactError
from adapters.registry import ParseContext, ParseResult
from adapters.x12 import X12Error
from collector.api import _request_id
from collector.exceptions import BadBody
from collector.ingest import Item, ValidatedBatch, decode_body, redact, validate
from collector.pipeline import Collector, read_limited, refused_items
from collector.telemetry import Telemetry
from tower.model import IngestResult

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["edi"])

EDI_BODY = {
    "requestBody": {
        "required": True,
        "description": "One X12 file (ISA..IEA interchanges, any delimiters) or one EDIFACT "
        "file (UNA/UNB..UNZ). Content-Encoding: gzip is accepted.",
        "content": {
            "application/edi-x12": {"schema": {"type": "string"}},
            "application/edifact": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


class RefusedDocument(BaseModel):
    segment: int = Field(description="1-based position of the offending segment in the file.")
    reason: str


class EdiIngestResult(BaseModel):
    events: IngestResult = Field(description="The events the documents yielded, as stored.")
    refused: list[RefusedDocument] = Field(
        description="Documents refused (kept in GET /api/v1/rejects with the raw file) and "
        "envelope problems (the documents of that envelope are still stored)."
    )


@router.post("/edi", response_model=EdiIngestResult, openapi_extra=EDI_BODY)
async def post_edi(
    request: Request,
    response: Response,
    source: Annotated[
        str | None,
        Query(
            max_length=128,
            description="The source of the events; default edi.<sender> (ISA06 or UNB02).",
        ),
    ] = None,
) -> EdiIngestResult:
    """Store the events of an X12 (850 ... 997, TA1) or EDIFACT (ORDERS ... CONTRL) file."""
    collector: Collector = request.app.state.collector
    telemetry: Telemetry = request.app.state.telemetry
    request_id = _request_id(request.headers.get("x-request-id"))
    collector.refuse_when_full()
    raw = await read_limited(
        request.stream(),
        content_length=request.headers.get("content-length"),
        max_bytes=collector.max_body_bytes,
    )
    batch, outcome, parsed = await collector.store_adapted(
        raw,
        request_id=request_id,
        prepare=lambda received_at: _prepare(
            collector,
            telemetry,
            raw,
            content_encoding=request.headers.get("content-encoding"),
            source=source,
            received_at=received_at,
        ),
    )
    refused_events = refused_items(batch)
    response.headers["X-Request-ID"] = request_id
    return EdiIngestResult(
        events=IngestResult(
            accepted=outcome.accepted, duplicates=outcome.duplicates, rejected=refused_events
        ),
        refused=[RefusedDocument(segment=r.index, reason=r.reason) for r in parsed.rejected],
    )


def _prepare(
    collector: Collector,
    telemetry: Telemetry,
    raw: bytes,
    *,
    content_encoding: str | None,
    source: str | None,
    received_at: datetime,
) -> tuple[ValidatedBatch, ParseResult]:
    body = decode_body(raw, content_encoding=content_encoding, max_bytes=collector.max_body_bytes)
    received_ns = int(received_at.timestamp()) * 10**9 + received_at.microsecond * 1000
    context = ParseContext(received_ns=received_ns, source=source)
    syntax = edi_syntax(body)
    try:
        parsed = telemetry.registry[syntax].parse(body, context)
    except X12Error as exc:
        raise BadBody(f"body is not X12: {exc}") from exc
    except EdifactError as exc:
        raise BadBody(f"body is not EDIFACT: {exc}") from exc
    items = [Item(i, None, line.decode()) for i, line in enumerate(event_dicts(parsed.events))]
    batch = redact(validate(collector.store, items, received_at=received_at), collector.redactor)
    if parsed.rejected:  # refused documents: kept with the raw interchange, like any reject
        text = body.decode("utf-8", errors="replace")
        documents = pa.table(
            {
                "batch_index": pa.array([None] * len(parsed.rejected), pa.int32()),
                "line": pa.array([None] * len(parsed.rejected), pa.int32()),
                "reason": pa.array([f"{syntax}: {r.reason}" for r in parsed.rejected], pa.string()),
                "raw": pa.array([text] * len(parsed.rejected), pa.string()),
            }
        )
        rejects = pa.concat_tables([batch.rejects, documents])
        batch = ValidatedBatch(
            events=batch.events, rejects=rejects, items=batch.items, received_at=received_at
        )
    return batch, parsed


def edi_syntax(body: bytes) -> str:
    """'edifact' when the file begins with UNA, UNB (or a bare UNH), else 'x12'.

    Anything else goes to the X12 reader, whose refusal says what the body begins with.
    """
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:3]
    return "edifact" if head in (b"UNA", b"UNB", b"UNH") else "x12"
