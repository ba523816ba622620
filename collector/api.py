"""The collector's HTTP face: batch ingest, event and reject listings, health."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from collector import service
from collector.pipeline import Collector, read_limited
from tower.exceptions import TowerError
from tower.model import IngestResult

__all__ = ["EventPage", "RejectPage", "router"]

router = APIRouter(prefix="/api/v1", tags=["events"])


def get_collector(request: Request) -> Collector:
    collector: Collector = request.app.state.collector
    return collector


CollectorDep = Annotated[Collector, Depends(get_collector)]

EVENT_BODY = {
    "required": True,
    "description": "One event, an array of events, or NDJSON (one event per line). "
    "Content-Encoding: gzip is accepted. Each item is validated on its own.",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/Event"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                ]
            }
        },
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "One Event JSON object per line."}
        },
    },
}


@router.post(
    "/events",
    response_model=IngestResult,
    openapi_extra={"requestBody": EVENT_BODY},
    responses={
        400: {"description": "The body as a whole is not JSON (recorded as a reject)."},
        413: {"description": "Body over the configured limit."},
        415: {"description": "Unknown Content-Type or Content-Encoding."},
        429: {"description": "Writer queue full; retry after the Retry-After seconds."},
    },
)
async def post_events(
    request: Request, response: Response, collector: CollectorDep
) -> IngestResult:
    """Store a batch of events. Answers only after they are committed."""
    request_id = _request_id(request.headers.get("x-request-id"))
    try:
        raw = await read_limited(
            request.stream(),
            content_length=request.headers.get("content-length"),
            max_bytes=collector.max_body_bytes,
        )
        result = await collector.ingest(
            raw,
            request_id=request_id,
            content_type=request.headers.get("content-type"),
            content_encoding=request.headers.get("content-encoding"),
        )
    except TowerError as exc:
        collector.metrics.requests.labels(status=str(exc.status_code)).inc()
        exc.headers.setdefault("X-Request-ID", request_id)
        raise
    collector.metrics.requests.labels(status="200").inc()
    response.headers["X-Request-ID"] = request_id
    return result


def _request_id(given: str | None) -> str:
    """The client's X-Request-ID when it is a sane token, else a new one."""
    if given and len(given) <= 128 and given.isprintable() and " " not in given:
        return given
    return uuid.uuid4().hex


class EventPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class RejectPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


@router.get("/events", response_model=EventPage)
def get_events(
    request: Request,
    collector: CollectorDep,
    key: Annotated[str | None, Query(description="Any identifier value, e.g. W-1001.")] = None,
    namespace: Annotated[str | None, Query(description="Limit `key` to one namespace.")] = None,
    include_related: Annotated[
        bool, Query(description="Also match events that reference `key` as a related object.")
    ] = False,
    type: str | None = None,
    source: str | None = None,
    system: str | None = None,
    facility: str | None = None,
    object_type: str | None = None,
    since: Annotated[AwareDatetime | None, Query(description="occurred_at >= since")] = None,
    until: Annotated[AwareDatetime | None, Query(description="occurred_at < until")] = None,
    cursor: Annotated[str | None, Query(pattern=r"^\d+$")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
    archive: Annotated[
        bool, Query(description="Also search events the retention job moved to Parquet.")
    ] = False,
) -> EventPage:
    """Stored events matching every filter, newest first."""
    rows, next_seq = service.list_events(
        store=collector.store,
        key=key,
        namespace=namespace,
        include_related=include_related,
        type=type,
        source=source,
        system=system,
        facility=facility,
        object_type=object_type,
        since=since,
        until=until,
        before_seq=int(cursor) if cursor else None,
        limit=limit,
        archive_dir=request.app.state.archive_dir if archive else None,
    )
    return EventPage(items=rows, next_cursor=None if next_seq is None else str(next_seq))


@router.get("/rejects", response_model=RejectPage)
def get_rejects(
    collector: CollectorDep,
    cursor: Annotated[str | None, Query(pattern=r"^\d+$")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> RejectPage:
    """Items the collector refused, newest first, with the raw text and the reason."""
    rows, next_id = service.list_rejects(
        store=collector.store, before_id=int(cursor) if cursor else None, limit=limit
    )
    return RejectPage(items=rows, next_cursor=None if next_id is None else str(next_id))
