"""The queues HTTP face: post samples (JSON or Prometheus text), read latest and history."""

from __future__ import annotations

import functools
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from adapters.prometheus import PrometheusDecodeError, PrometheusRules, parse_metrics
from collector.api import _request_id
from collector.exceptions import BadBody, UnsupportedContentType
from collector.ingest import decode_body
from collector.pipeline import read_limited
from queues import service
from queues.models import QueuePage, SamplesResult
from tower.clock import Clock
from tower.deps import StoreDep
from tower.model import RejectedItem

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/queues", tags=["queues"])

SAMPLES_BODY = {
    "requestBody": {
        "required": True,
        "description": "One queue sample or an array of them. Content-Encoding: gzip is "
        "accepted. Each item is validated on its own.",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"type": "object", "description": "A sample: see docs/queues.md."},
                        {"type": "array", "items": {"type": "object"}},
                    ]
                }
            }
        },
    }
}
METRICS_BODY = {
    "requestBody": {
        "required": True,
        "description": "Prometheus text exposition, read with the Prometheus rules.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


async def _body(request: Request) -> bytes:
    max_bytes: int = request.app.state.collector.max_body_bytes
    raw = await read_limited(
        request.stream(), content_length=request.headers.get("content-length"), max_bytes=max_bytes
    )
    return decode_body(
        raw, content_encoding=request.headers.get("content-encoding"), max_bytes=max_bytes
    )


@router.post("/samples", response_model=SamplesResult, openapi_extra=SAMPLES_BODY)
async def post_samples(request: Request, response: Response, store: StoreDep) -> SamplesResult:
    """Store queue samples from any source; answers after they are committed."""
    request_id = _request_id(request.headers.get("x-request-id"))
    media = (request.headers.get("content-type") or "application/json").split(";")[0].strip()
    if media.lower() not in ("application/json", "text/json", ""):
        raise UnsupportedContentType(f"Content-Type {media!r} is not supported; send JSON")
    body = await _body(request)
    try:
        doc: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(f"body is not JSON: {exc}") from exc
    items = doc if isinstance(doc, list) else [doc]
    clock: Clock = request.app.state.clock
    received_at = clock()
    samples, refused = service.samples_from_items(items, received_at=received_at)
    await run_in_threadpool(
        functools.partial(
            service.store_samples,
            store=store,
            samples=samples,
            received_at=received_at,
            refused=refused,
            request_id=request_id,
        )
    )
    response.headers["X-Request-ID"] = request_id
    return SamplesResult(
        accepted=len(samples),
        rejected=[RejectedItem(index=r.index, line=None, reason=r.reason) for r, _ in refused],
    )


@router.post("/metrics", response_model=SamplesResult, openapi_extra=METRICS_BODY)
async def post_metrics(
    request: Request,
    response: Response,
    store: StoreDep,
    broker: Annotated[
        str, Query(min_length=1, max_length=256, description="The broker the text describes.")
    ],
) -> SamplesResult:
    """Store the queue samples a pushed Prometheus text gives (RabbitMQ, Kafka lag exporters)."""
    request_id = _request_id(request.headers.get("x-request-id"))
    body = await _body(request)
    rules: PrometheusRules = request.app.state.prometheus_rules
    clock: Clock = request.app.state.clock
    received_at = clock()
    when = int(received_at.timestamp()) * 10**9 + received_at.microsecond * 1000
    try:
        samples, rejected = parse_metrics(
            body.decode("utf-8", errors="replace"), rules=rules, time_ns=when, broker=broker
        )
    except PrometheusDecodeError as exc:
        raise BadBody(str(exc)) from exc
    await run_in_threadpool(
        functools.partial(
            service.store_samples, store=store, samples=samples, received_at=received_at
        )
    )
    response.headers["X-Request-ID"] = request_id
    return SamplesResult(
        accepted=len(samples),
        rejected=[RejectedItem(index=r.index, line=None, reason=r.reason) for r in rejected],
    )


@router.get("", response_model=QueuePage)
def get_queues(
    store: StoreDep,
    broker: str | None = None,
    vhost: str | None = None,
    queue: str | None = None,
    dead_letter: Annotated[
        bool | None, Query(description="Only dead-letter queues (true) or only others (false).")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="Samples at or after.")] = None,
    history: Annotated[int, Query(ge=1, le=1000, description="Samples per queue.")] = 20,
) -> QueuePage:
    """Every queue: its latest sample and a short history, newest first."""
    return QueuePage(
        items=service.list_queues(
            store=store,
            broker=broker,
            vhost=vhost,
            queue=queue,
            dead_letter=dead_letter,
            since=since,
            history=history,
        )
    )
