"""One ingest request end to end: read, validate, queue, await the commit, answer."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TypeVar

from opentelemetry import trace
from starlette.concurrency import run_in_threadpool

from collector.exceptions import BadBody, BodyTooLarge, WriterBusy
from collector.ingest import (
    ValidatedBatch,
    body_format,
    prepare,
    redact,
    unreadable_body,
    with_key_rows,
)
from collector.metrics import IngestMetrics
from collector.redaction import Redactor
from collector.writer import BatchOutcome, Writer
from tower.clock import Clock, utc_now
from tower.db import Store
from tower.model import IngestResult, RejectedItem

__all__ = ["BatchHook", "Collector", "read_limited", "refused_items"]

T = TypeVar("T")

# The tower's own spans (tower/selfobs/telemetry.py routes them); a no-op while telemetry is off.
tracer = trace.get_tracer("tower.collector")
# size, accepted, duplicates, rejected, commit wait (s): called once per batch, never per event
BatchHook = Callable[..., None]


async def read_limited(
    chunks: AsyncIterator[bytes], *, content_length: str | None, max_bytes: int
) -> bytes:
    """The whole body, refusing (413) anything over `max_bytes` before reading it all."""
    if content_length is not None and content_length.isdigit() and int(content_length) > max_bytes:
        raise BodyTooLarge(f"body of {content_length} bytes is over the limit of {max_bytes}")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"body is over the limit of {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


def refused_items(batch: ValidatedBatch) -> list[RejectedItem]:
    """The batch's refused events by position (not the whole-document rejects kept beside)."""
    return [
        RejectedItem(index=r["batch_index"], line=None, reason=r["reason"])
        for r in batch.rejects.select(["batch_index", "reason"]).to_pylist()
        if r["batch_index"] is not None
    ]


class Collector:
    """Validates batches on request threads and hands them to the single writer."""

    def __init__(
        self,
        *,
        store: Store,
        writer: Writer,
        metrics: IngestMetrics,
        max_body_bytes: int,
        clock: Clock = utc_now,
        on_batch: BatchHook | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.redactor = redactor
        self.store = store
        self.writer = writer
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self.on_batch = on_batch

    async def ingest(
        self,
        raw: bytes,
        *,
        request_id: str,
        content_type: str | None,
        content_encoding: str | None,
    ) -> IngestResult:
        """Store a body's events; say what happened to each item."""
        with tracer.start_as_current_span("tower.ingest.batch") as span:
            result, wait = await self._ingest(
                raw,
                request_id=request_id,
                content_type=content_type,
                content_encoding=content_encoding,
            )
            size = result.accepted + result.duplicates + len(result.rejected)
            if span.is_recording():
                span.set_attributes(
                    {
                        "tower.ingest.size": size,
                        "tower.ingest.accepted": result.accepted,
                        "tower.ingest.duplicates": result.duplicates,
                        "tower.ingest.rejected": len(result.rejected),
                        "tower.ingest.commit_wait_seconds": wait,
                    }
                )
        if self.on_batch is not None:
            self.on_batch(
                size=size,
                accepted=result.accepted,
                duplicates=result.duplicates,
                rejected=len(result.rejected),
                commit_wait=wait,
            )
        return result

    def refuse_when_full(self) -> None:
        """429 before spending CPU and memory on a batch the queue cannot take."""
        if self.writer.queued_events >= self.writer.max_queued_events:
            raise WriterBusy(
                f"ingest queue is full ({self.writer.queued_events} events waiting)",
                headers={"Retry-After": str(self.writer.retry_after_seconds)},
            )

    async def store_adapted(
        self,
        raw: bytes,
        *,
        request_id: str,
        prepare: Callable[[datetime], tuple[ValidatedBatch, T]],
    ) -> tuple[ValidatedBatch, BatchOutcome, T]:
        """An adapter endpoint's body (EDI, webhooks): `prepare(received_at)` turns it into a
        validated batch off the event loop, then the batch is committed. A body `prepare`
        cannot read is kept as a reject and its BadBody raised."""
        received_at = self.clock()

        def prepared() -> tuple[ValidatedBatch, T]:
            batch, extra = prepare(received_at)
            return with_key_rows(batch), extra

        try:
            batch, extra = await run_in_threadpool(prepared)
        except BadBody as exc:
            unreadable = redact(
                unreadable_body(raw, exc.detail, received_at=received_at), self.redactor
            )
            await asyncio.wrap_future(self.writer.submit(unreadable, request_id=request_id))
            exc.headers.setdefault("X-Request-ID", request_id)
            raise
        outcome = await asyncio.wrap_future(self.writer.submit(batch, request_id=request_id))
        return batch, outcome, extra

    async def _ingest(
        self,
        raw: bytes,
        *,
        request_id: str,
        content_type: str | None,
        content_encoding: str | None,
    ) -> tuple[IngestResult, float]:
        fmt = body_format(content_type)
        self.refuse_when_full()
        received_at = self.clock()
        try:
            batch = await run_in_threadpool(
                functools.partial(
                    prepare,
                    self.store,
                    raw,
                    fmt=fmt,
                    content_encoding=content_encoding,
                    max_bytes=self.max_body_bytes,
                    received_at=received_at,
                    redactor=self.redactor,
                )
            )
        except BadBody as exc:
            unreadable = redact(
                unreadable_body(raw, exc.detail, received_at=received_at), self.redactor
            )
            await asyncio.wrap_future(self.writer.submit(unreadable, request_id=request_id))
            self.metrics.rejected.inc()
            raise
        queued = time.perf_counter()
        outcome = await asyncio.wrap_future(self.writer.submit(batch, request_id=request_id))
        wait = time.perf_counter() - queued
        rejected = [
            RejectedItem(index=r["batch_index"], line=r["line"], reason=r["reason"])
            for r in batch.rejects.select(["batch_index", "line", "reason"]).to_pylist()
        ]
        self.metrics.accepted.inc(outcome.accepted)
        self.metrics.duplicates.inc(outcome.duplicates)
        self.metrics.rejected.inc(len(rejected))
        result = IngestResult(
            accepted=outcome.accepted, duplicates=outcome.duplicates, rejected=rejected
        )
        return result, wait
