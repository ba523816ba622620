"""Webhook intake: POST /api/v1/webhooks/{mapping} turns any JSON payload into events.

The mapping (adapters/mapping.py; YAML files read by adapters/mapping_files.py from the shipped
adapters/webhooks and TOWER_WEBHOOK_MAPPINGS_DIR) names where each field of each event comes
from. The events it yields are validated and committed exactly like posted events
(collector.ingest.validate and the single writer). An event the mapping cannot build is refused
with the field, the expression and the reason, and kept in the rejects with the raw payload; a
body that is not JSON is refused whole (400) and kept the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
import pyarrow as pa
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from adapters.mapping import MappingResult, WebhookMapping
from collector.api import _request_id
from collector.exceptions import BadBody
from collector.ingest import Item, ValidatedBatch, decode_body, redact, validate
from collector.pipeline import Collector, read_limited, refused_items
from tower.exceptions import TowerError
from tower.model import IngestResult

__all__ = ["UnknownMapping", "UnusablePayload", "router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

# Headers a mapping may read (e.g. X-Shopify-Topic); credentials are never handed to it.
HIDDEN_HEADERS = {"authorization", "cookie", "proxy-authorization"}

WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "description": "The webhook's JSON payload, as the sending system posts it. "
        "Content-Encoding: gzip is accepted.",
        "content": {"application/json": {"schema": {}}},
    }
}


class UnknownMapping(TowerError):
    status_code = 404
    code = "not_found"


class UnusablePayload(TowerError):
    """Valid JSON, but the mapping could build no event from it (every one refused)."""

    status_code = 422
    code = "unprocessable"


class RefusedEvent(BaseModel):
    index: int = Field(description="0-based position of the event among those the mapping built.")
    reason: str


class WebhookResult(BaseModel):
    mapping: str
    events: IngestResult = Field(
        description="The events the payload yielded, as stored; `index` is the event's position."
    )
    refused: list[RefusedEvent] = Field(
        description="Events the mapping could not build (field, expression, reason); kept in "
        "GET /api/v1/rejects with the raw payload."
    )


class MappingInfo(BaseModel):
    name: str
    description: str
    events: list[str] = Field(description="The entries of the mapping's `events:` list.")
    origin: str = Field(description="The file it was read from.")


def _mappings(request: Request) -> dict[str, WebhookMapping]:
    mappings: dict[str, WebhookMapping] = request.app.state.webhook_mappings
    return mappings


@router.get("", response_model=list[MappingInfo])
def list_mappings(request: Request) -> list[MappingInfo]:
    """The webhook mappings this tower knows, shipped and user-supplied."""
    return [
        MappingInfo(
            name=m.name,
            description=m.description,
            events=[e.where for e in m.events],
            origin=m.origin,
        )
        for _, m in sorted(_mappings(request).items())
    ]


@router.post(
    "/{mapping}",
    response_model=WebhookResult,
    openapi_extra=WEBHOOK_BODY,
    responses={
        400: {"description": "The body is not JSON (recorded as a reject)."},
        404: {"description": "No mapping of that name; the answer lists the known ones."},
        413: {"description": "Body over the configured limit."},
        429: {"description": "Writer queue full; retry after the Retry-After seconds."},
    },
)
async def post_webhook(
    request: Request,
    response: Response,
    mapping: Annotated[str, Path(max_length=128, description="A mapping's name.")],
) -> WebhookResult:
    """Store the events a webhook payload yields through the named mapping."""
    known = _mappings(request)
    chosen = known.get(mapping)
    if chosen is None:
        names = ", ".join(sorted(known)) or "none"
        raise UnknownMapping(f"no webhook mapping named {mapping!r}; known mappings: {names}")
    collector: Collector = request.app.state.collector
    request_id = _request_id(request.headers.get("x-request-id"))
    collector.refuse_when_full()
    raw = await read_limited(
        request.stream(),
        content_length=request.headers.get("content-length"),
        max_bytes=collector.max_body_bytes,
    )
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HIDDEN_HEADERS}
    batch, outcome, mapped = await collector.store_adapted(
        raw,
        request_id=request_id,
        prepare=lambda received_at: _prepare(
            collector,
            chosen,
            raw,
            headers=headers,
            content_encoding=request.headers.get("content-encoding"),
            received_at=received_at,
        ),
    )
    if mapped.rejected and not mapped.events:  # stored as rejects above; say why, not 200
        more = f" (and {len(mapped.rejected) - 1} more)" if len(mapped.rejected) > 1 else ""
        raise UnusablePayload(
            f"mapping {chosen.name!r} built no event from the payload: "
            f"{mapped.rejected[0].reason}{more}",
            headers={"X-Request-ID": request_id},
        )
    refused_events = refused_items(batch)
    response.headers["X-Request-ID"] = request_id
    return WebhookResult(
        mapping=chosen.name,
        events=IngestResult(
            accepted=outcome.accepted, duplicates=outcome.duplicates, rejected=refused_events
        ),
        refused=[RefusedEvent(index=r.index, reason=r.reason) for r in mapped.rejected],
    )


def _prepare(
    collector: Collector,
    mapping: WebhookMapping,
    raw: bytes,
    *,
    headers: dict[str, str],
    content_encoding: str | None,
    received_at: datetime,
) -> tuple[ValidatedBatch, MappingResult]:
    body = decode_body(raw, content_encoding=content_encoding, max_bytes=collector.max_body_bytes)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(f"webhook body for mapping {mapping.name!r} is not JSON: {exc}") from exc
    mapped = mapping.apply(payload, headers=headers)
    items = [
        Item(index, None, orjson.dumps(event).decode())
        for index, event in zip(mapped.indexes, mapped.events, strict=True)
    ]
    batch = redact(validate(collector.store, items, received_at=received_at), collector.redactor)
    if mapped.rejected:  # refused events: kept with the raw payload, like any reject
        text = body.decode("utf-8", errors="replace")
        count = len(mapped.rejected)
        refused = pa.table(
            {
                "batch_index": pa.array([None] * count, pa.int32()),
                "line": pa.array([None] * count, pa.int32()),
                "reason": pa.array(
                    [f"webhook {mapping.name}: {r.reason}" for r in mapped.rejected], pa.string()
                ),
                "raw": pa.array([text] * count, pa.string()),
            }
        )
        batch = ValidatedBatch(
            events=batch.events,
            rejects=pa.concat_tables([batch.rejects, refused]),
            items=batch.items,
            received_at=received_at,
        )
    return batch, mapped
