"""Telemetry intake: OTLP traces, logs and metrics, and log lines, end to end.

Decode with an adapter, validate the events it derives exactly like posted events (NDJSON lines
through collector.ingest.validate and the single writer), then store the spans, log records or
metric points in their own tables on the "telemetry" write lane. The answer comes only after
both commits. Retrying is safe: events are deduplicated by event_id and spans by their ids.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
from starlette.concurrency import run_in_threadpool

from adapters.derive import event_dicts
from adapters.otlp import OtlpDecodeError
from adapters.records import LogRecord, MetricPoint, Rejected, Span
from adapters.registry import ParseContext, ParseResult, Registry
from collector.exceptions import BadBody, WriterBusy
from collector.ingest import Item, ValidatedBatch, decode_body, redact, validate
from collector.redaction import Redactor, redact_records
from collector.telemetry_tables import log_records_table, metric_points_table, spans_table
from collector.writer import Writer
from tower.clock import Clock, utc_now
from tower.db import Store, load_queries
from tower.model import IngestResult, RejectedItem

__all__ = ["Receipt", "Telemetry"]

SQL = load_queries("collector")


@dataclass(slots=True)
class Receipt:
    """What one telemetry request did."""

    records: int  # spans, log records or metric points stored (or already stored)
    rejected: list[Rejected] = field(default_factory=list)  # refused by the adapter
    events: IngestResult = field(
        default_factory=lambda: IngestResult(accepted=0, duplicates=0, rejected=[])
    )
    # the refused derived events, with the record they came from
    event_problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Prepared:
    parsed: ParseResult
    batch: ValidatedBatch | None
    table: pa.Table | None
    kind: str  # spans | logs | points


class Telemetry:
    """Takes telemetry bodies on request threads; one request at a time per write lane."""

    def __init__(
        self,
        *,
        store: Store,
        writer: Writer,
        registry: Registry,
        max_body_bytes: int,
        max_inflight: int = 16,
        clock: Clock = utc_now,
        redactor: Redactor | None = None,
    ) -> None:
        self.redactor = redactor
        self.store = store
        self.writer = writer
        self.registry = registry
        self.max_body_bytes = max_body_bytes
        self.max_inflight = max_inflight
        self.clock = clock
        self._inflight = 0

    async def receive(
        self,
        adapter: str,
        raw: bytes,
        *,
        request_id: str,
        content_type: str | None,
        content_encoding: str | None,
        source: str | None = None,
    ) -> Receipt:
        """Decode, validate, store; raises BadBody, BodyTooLarge, WriterBusy, StorageError."""
        self._refuse_when_busy()
        self._inflight += 1
        try:
            received_at = self.clock()
            prepared = await run_in_threadpool(
                functools.partial(
                    self._prepare,
                    adapter,
                    raw,
                    content_type=content_type,
                    content_encoding=content_encoding,
                    source=source,
                    received_at=received_at,
                    request_id=request_id,
                )
            )
            events = IngestResult(accepted=0, duplicates=0, rejected=[])
            problems: list[str] = []
            if prepared.batch is not None:
                outcome = await asyncio.wrap_future(
                    self.writer.submit(prepared.batch, request_id=request_id)
                )
                refused = prepared.batch.rejects.select(["batch_index", "reason"]).to_pylist()
                events = IngestResult(
                    accepted=outcome.accepted,
                    duplicates=outcome.duplicates,
                    rejected=[
                        RejectedItem(index=r["batch_index"], line=None, reason=r["reason"])
                        for r in refused
                    ],
                )
                problems = [
                    f"event {prepared.parsed.events[r['batch_index']].event_id} refused: "
                    f"{r['reason']}"
                    for r in refused
                ]
            if prepared.table is not None and prepared.table.num_rows:
                await run_in_threadpool(self._store_records, prepared.kind, prepared.table)
            return Receipt(
                records=len(prepared.parsed.records),
                rejected=prepared.parsed.rejected,
                events=events,
                event_problems=problems,
            )
        finally:
            self._inflight -= 1

    def _refuse_when_busy(self) -> None:
        retry = {"Retry-After": str(self.writer.retry_after_seconds)}
        if self.writer.queued_events >= self.writer.max_queued_events:
            raise WriterBusy(
                f"ingest queue is full ({self.writer.queued_events} events waiting); retry "
                f"after {self.writer.retry_after_seconds} s",
                headers=retry,
            )
        if self._inflight >= self.max_inflight:
            raise WriterBusy(
                f"{self._inflight} telemetry requests are being stored; retry after "
                f"{self.writer.retry_after_seconds} s",
                headers=retry,
            )

    def _prepare(
        self,
        adapter: str,
        raw: bytes,
        *,
        content_type: str | None,
        content_encoding: str | None,
        source: str | None,
        received_at: datetime,
        request_id: str,
    ) -> _Prepared:
        body = decode_body(raw, content_encoding=content_encoding, max_bytes=self.max_body_bytes)
        received_ns = int(received_at.timestamp()) * 10**9 + received_at.microsecond * 1000
        context = ParseContext(received_ns=received_ns, content_type=content_type, source=source)
        try:
            parsed = self.registry[adapter].parse(body, context)
        except OtlpDecodeError as exc:
            raise BadBody(str(exc)) from exc
        batch = None
        if parsed.events:
            lines = event_dicts(parsed.events)
            items = [Item(i, None, line.decode()) for i, line in enumerate(lines)]
            batch = redact(validate(self.store, items, received_at=received_at), self.redactor)
            refused = set(batch.rejects["batch_index"].to_pylist())
            if refused:  # a record whose event was refused links to nothing
                bad_ids = {parsed.events[i].event_id for i in refused}
                parsed.derived = [None if d in bad_ids else d for d in parsed.derived]
        kind, table = _table(parsed, received_at=received_at, request_id=request_id)
        table = redact_records(table, self.redactor)
        return _Prepared(parsed=parsed, batch=batch, table=table, kind=kind)

    def _store_records(self, kind: str, table: pa.Table) -> None:
        name, statement = {
            "spans": ("incoming_spans", SQL["insert_spans"]),
            "logs": ("incoming_logs", SQL["insert_log_records"]),
            "points": ("incoming_points", SQL["insert_metric_points"]),
        }[kind]
        with self.store.transaction(
            doing=f"storing {table.num_rows} {kind}", lane="telemetry"
        ) as con:
            con.register(name, table)
            try:
                con.execute(statement)
            finally:
                con.unregister(name)


def _table(
    parsed: ParseResult, *, received_at: datetime, request_id: str
) -> tuple[str, pa.Table | None]:
    records = parsed.records
    if not records:
        return "spans", None
    first = records[0]
    if isinstance(first, Span):
        spans = [r for r in records if isinstance(r, Span)]
        return "spans", spans_table(
            spans, parsed.derived, received_at=received_at, request_id=request_id
        )
    if isinstance(first, LogRecord):
        logs = [r for r in records if isinstance(r, LogRecord)]
        return "logs", log_records_table(
            logs, parsed.derived, received_at=received_at, request_id=request_id
        )
    points = [r for r in records if isinstance(r, MetricPoint)]
    return "points", metric_points_table(points, received_at=received_at, request_id=request_id)
