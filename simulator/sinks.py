"""Where the simulation's output goes: events to the tower's public API (or a file), spans and
log lines to the tower's telemetry interfaces, fault records to the ground-truth file.

The simulator never touches the tower's database: HttpEventSink speaks POST /api/v1/events like
any producer; HttpTelemetrySink exports spans through the real OpenTelemetry SDK (a
TracerProvider per service and the OTLP/HTTP span exporter, pointed at /v1/traces) and posts log
lines to POST /api/v1/logs; HttpQueueSink posts queue samples to POST /api/v1/queues/samples.
The runner hands every kind of item to its sink.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import httpx
import orjson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode

from collector.client import FileItem, post_batch
from simulator.records import Emission, FaultRecord, LogLine, QueueSample, TraceRecord, format_time
from tower.access.client import auth_headers

__all__ = [
    "EventSink",
    "FileEventSink",
    "GroundTruthWriter",
    "QueueSink",
    "HttpEventSink",
    "HttpQueueSink",
    "HttpTelemetrySink",
    "SendResult",
    "TelemetryError",
    "TelemetrySink",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (event_id, reason)
    records: int = 0  # log records stored (log lines only)


class EventSink(Protocol):
    """Takes batches of events. Implementations: the tower's HTTP API, an NDJSON file."""

    def send(self, events: Sequence[Emission]) -> SendResult: ...

    def close(self) -> None: ...


class HttpEventSink:
    """POST /api/v1/events as gzip NDJSON batches, waiting while the tower says it is busy."""

    def __init__(self, url: str, *, timeout: float = 120.0, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")  # the tower: its other interfaces sit beside this one
        self.endpoint = self.url + "/api/v1/events"
        self._client = httpx.Client(timeout=timeout, headers=auth_headers(api_key))

    def send(self, events: Sequence[Emission]) -> SendResult:
        items = [FileItem(e.event_id, e.to_json()) for e in events]
        answer, retries = post_batch(
            self._client, self.endpoint, items, on_retry=lambda why: log.info("retrying: %s", why)
        )
        rejected: list[dict[str, Any]] = answer.get("rejected", [])  # type: ignore[assignment]
        return SendResult(
            accepted=int(answer["accepted"]),  # type: ignore[call-overload]
            duplicates=int(answer["duplicates"]),  # type: ignore[call-overload]
            rejected=[(items[r["index"]].where, str(r["reason"])) for r in rejected],
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FileEventSink:
    """Writes events as NDJSON (for `tower ingest` later, or to inspect a run)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("wb")

    def send(self, events: Sequence[Emission]) -> SendResult:
        self._file.write(b"".join(e.to_json() + b"\n" for e in events))
        return SendResult(accepted=len(events))

    def close(self) -> None:
        self._file.close()


class TelemetryError(Exception):
    """The tower did not take a batch of spans, even after the exporter's retries."""


class TelemetrySink(Protocol):
    """Takes traces and log lines (one source's at a time), storing them in the order given."""

    def send_traces(self, traces: Sequence[TraceRecord]) -> int:
        """Export the traces, each service's together (an export groups spans by service);
        returns the number of spans sent."""
        ...

    def send_logs(self, source: str, lines: Sequence[LogLine]) -> SendResult:
        """Post one source's lines; the result counts the events the tower derived."""
        ...

    def close(self) -> None: ...


class _PlannedIds(IdGenerator):
    """Hands the SDK the ids the simulation planned, so the seed fixes every trace and span id
    (and a re-sent span is one the tower already has)."""

    def __init__(self) -> None:
        self.trace_id = 0
        self.span_id = 0

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


class _Collect(SpanProcessor):
    """Keeps ended spans for an export the sink makes itself, synchronously: unlike the batch
    processor it never drops spans when a backfill outruns its queue, and a failed export
    stops the run instead of vanishing into a background thread's log."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS = {kind.name.lower(): kind for kind in SpanKind}
SCOPE = "control-tower.simulator"


def _nanoseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


class HttpTelemetrySink:
    """Spans through the OpenTelemetry SDK's OTLP/HTTP exporter to /v1/traces, and log lines to
    POST /api/v1/logs, both waiting while the tower says it is busy."""

    EXPORT_SPANS = 2000  # spans per export request
    POST_LINES = 5000  # log lines per request

    def __init__(self, url: str, *, timeout: float = 120.0, api_key: str | None = None) -> None:
        base = url.rstrip("/")
        self.logs_endpoint = base + "/api/v1/logs"
        headers = auth_headers(api_key)
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._exporter = OTLPSpanExporter(
            endpoint=base + "/v1/traces",
            compression=Compression.Gzip,
            timeout=timeout,
            headers={name.lower(): value for name, value in headers.items()},
        )
        self._ids = _PlannedIds()
        self._collected = _Collect()
        self._providers: dict[str, TracerProvider] = {}
        self._aborted = False

    def _tracer(self, service: str) -> trace.Tracer:
        # One provider per service: the resource (service.name) belongs to the provider.
        provider = self._providers.get(service)
        if provider is None:
            provider = TracerProvider(
                resource=Resource.create({"service.name": service}),
                sampler=ALWAYS_ON,
                id_generator=self._ids,
                shutdown_on_exit=False,
            )
            provider.add_span_processor(self._collected)
            self._providers[service] = provider
        return provider.get_tracer(SCOPE)

    def _record(self, record: TraceRecord) -> None:
        """Start and end the trace's spans with the SDK, at their planned (historic) times."""
        tracer = self._tracer(record.service)
        started: dict[str, trace.Span] = {}
        self._ids.trace_id = int(record.trace_id, 16)  # used by the root only
        for plan in record.spans:
            self._ids.span_id = int(plan.span_id, 16)
            parent = (
                Context()  # a root: never a child of whatever span the caller has open
                if plan.parent is None
                else trace.set_span_in_context(started[plan.parent])
            )
            span = tracer.start_span(
                plan.name,
                context=parent,
                kind=_KINDS[plan.kind],
                attributes=plan.attributes,
                start_time=_nanoseconds(plan.start),
            )
            if plan.error is not None:
                span.set_status(Status(StatusCode.ERROR, plan.error))
            started[plan.span_id] = span
        for plan in reversed(record.spans):  # children end before their parents
            started[plan.span_id].end(end_time=_nanoseconds(plan.end))

    def send_traces(self, traces: Sequence[TraceRecord]) -> int:
        for record in traces:
            self._record(record)
        spans, self._collected.spans = self._collected.spans, []
        for start in range(0, len(spans), self.EXPORT_SPANS):
            chunk = spans[start : start + self.EXPORT_SPANS]
            if self._exporter.export(chunk) is not SpanExportResult.SUCCESS:
                raise TelemetryError(
                    f"the tower did not take {len(chunk)} spans (the exporter says why above)"
                )
        return len(spans)

    def send_logs(self, source: str, lines: Sequence[LogLine]) -> SendResult:
        result = SendResult()
        url = str(httpx.URL(self.logs_endpoint, params={"source": source}))
        for start in range(0, len(lines), self.POST_LINES):
            chunk = lines[start : start + self.POST_LINES]
            items = [
                FileItem(f"{source} at {format_time(line.at)}", line.text.encode())
                for line in chunk
            ]
            answer, _ = post_batch(
                self._client,
                url,
                items,
                content_type="application/x-ndjson" if chunk[0].ndjson else "text/plain",
                on_retry=lambda why: log.info("retrying: %s", why),
            )
            events: dict[str, Any] = answer["events"]  # type: ignore[assignment]
            result.records += int(answer["records"])  # type: ignore[call-overload]
            result.accepted += int(events["accepted"])
            result.duplicates += int(events["duplicates"])
            result.rejected += [
                (f"event derived from {source} logs", str(r["reason"])) for r in events["rejected"]
            ]
        return result

    def abort(self) -> None:
        """Stop the exporter, from any thread: an export in progress gives up its retries and
        fails, and no later one is sent."""
        if not self._aborted:
            self._aborted = True
            self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        for provider in self._providers.values():
            provider.shutdown()
        self._providers.clear()
        self.abort()
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class QueueSink(Protocol):
    """Takes queue samples."""

    def send_samples(self, samples: Sequence[QueueSample]) -> SendResult: ...

    def close(self) -> None: ...


class HttpQueueSink:
    """POST /api/v1/queues/samples as gzip JSON arrays, waiting while the tower says it is busy
    (a sample already stored is not stored twice, so a retry is safe)."""

    POST_SAMPLES = 5000  # samples per request

    def __init__(self, url: str, *, timeout: float = 120.0, api_key: str | None = None) -> None:
        self.endpoint = url.rstrip("/") + "/api/v1/queues/samples"
        self._client = httpx.Client(timeout=timeout, headers=auth_headers(api_key))

    def send_samples(self, samples: Sequence[QueueSample]) -> SendResult:
        result = SendResult()
        for start in range(0, len(samples), self.POST_SAMPLES):
            chunk = samples[start : start + self.POST_SAMPLES]
            body = orjson.dumps([sample.to_item() for sample in chunk])
            # post_batch joins items with newlines: one item holding the array is the body.
            answer, _ = post_batch(
                self._client,
                self.endpoint,
                [FileItem("queue samples", body)],
                content_type="application/json",
                on_retry=lambda why: log.info("retrying: %s", why),
            )
            rejected: list[dict[str, Any]] = answer.get("rejected", [])  # type: ignore[assignment]
            result.accepted += int(answer["accepted"])  # type: ignore[call-overload]
            result.rejected += [
                (f"queue sample {chunk[r['index']].queue}", str(r["reason"])) for r in rejected
            ]
        return result

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class GroundTruthWriter:
    """The run's ground truth as NDJSON: a header line, then one line per injected fault."""

    def __init__(self, path: Path, *, header: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.count = 0
        self._file: IO[bytes] = path.open("wb")
        self._file.write(orjson.dumps({"record": "run", **header}) + b"\n")
        self._file.flush()

    def write(self, record: FaultRecord) -> None:
        self._file.write(record.to_json() + b"\n")
        self.count += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self, *, ended_at: datetime | None = None) -> None:
        if ended_at is not None:
            line = {"record": "end", "at": format_time(ended_at), "faults": self.count}
            self._file.write(orjson.dumps(line) + b"\n")
        self._file.close()
