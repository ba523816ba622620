"""One ingest request end to end: read, validate, queue, await the commit, answer."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from collector.exceptions import BadBody, BodyTooLarge, WriterBusy
from collector.ingest import body_format, prepare, redact, unreadable_body
from collector.metrics import IngestMetrics
from collector.redaction import Redactor
from collector.writer import Writer
from tower.clock import Clock, utc_now
from tower.db import Store
from tower.model import IngestResult, RejectedItem

__all__ = ["Collector", "read_limited"]


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
        redactor: Redactor | None = None,
    ) -> None:
        self.redactor = redactor
        self.store = store
        self.writer = writer
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.clock = clock

    async def ingest(
        self,
        raw: bytes,
        *,
        request_id: str,
        content_type: str | None,
        content_encoding: str | None,
    ) -> IngestResult:
        """Store a body's events; say what happened to each item."""
        fmt = body_format(content_type)
        if self.writer.queued_events >= self.writer.max_queued_events:
            # Refuse before spending CPU and memory on a batch the queue cannot take.
            raise WriterBusy(
                f"ingest queue is full ({self.writer.queued_events} events waiting)",
                headers={"Retry-After": str(self.writer.retry_after_seconds)},
            )
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
        outcome = await asyncio.wrap_future(self.writer.submit(batch, request_id=request_id))
        rejected = [
            RejectedItem(index=r["batch_index"], line=r["line"], reason=r["reason"])
            for r in batch.rejects.select(["batch_index", "line", "reason"]).to_pylist()
        ]
        self.metrics.accepted.inc(outcome.accepted)
        self.metrics.duplicates.inc(outcome.duplicates)
        self.metrics.rejected.inc(len(rejected))
        return IngestResult(
            accepted=outcome.accepted, duplicates=outcome.duplicates, rejected=rejected
        )
