"""The one shape every source adapter has, and the table of adapters by name.

An adapter is pure: bytes and a little context in, records, derived events and refused items
out. The collector (the I/O edge) picks one by name, hands it the body, validates the events
like any posted event and stores the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from adapters import edifact, otlp, x12
from adapters.derive import OtlpRules, log_event, span_event
from adapters.logs import LogRules, parse_lines
from adapters.records import LogRecord, MetricPoint, QueueSample, Rejected, Span
from tower.model import Event

__all__ = [
    "EdifactDocuments",
    "LogLines",
    "OtlpLogs",
    "OtlpMetrics",
    "OtlpTraces",
    "ParseContext",
    "ParseResult",
    "Registry",
    "SourceAdapter",
    "X12Documents",
    "build_registry",
]

Record = Span | LogRecord | MetricPoint | QueueSample


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What an adapter may know besides the bytes: how they were sent, when, by whom."""

    received_ns: int
    content_type: str | None = None
    source: str | None = None


@dataclass(slots=True)
class ParseResult:
    """Records to store, events they yield (unvalidated), and the items refused.

    `derived` runs beside `records`: the event_id of the event each record yielded, or None.
    """

    records: list[Record] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    derived: list[str | None] = field(default_factory=list)

    @classmethod
    def of(
        cls, records: list[Record], events: list[Event | None], rejected: list[Rejected]
    ) -> ParseResult:
        """From records and the event (or None) each yielded, in the same order."""
        return cls(
            records=records,
            events=[e for e in events if e is not None],
            rejected=rejected,
            derived=[None if e is None else e.event_id for e in events],
        )


class SourceAdapter(Protocol):
    """A native payload to records and canonical events. No I/O, no journeys."""

    @property
    def name(self) -> str: ...

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult: ...


def _encoding(context: ParseContext) -> otlp.Encoding:
    encoding = otlp.encoding_of(context.content_type)
    if encoding is None:
        raise otlp.OtlpDecodeError(f"Content-Type {context.content_type!r} is not OTLP")
    return encoding


@dataclass(frozen=True, slots=True)
class OtlpTraces:
    """ExportTraceServiceRequest -> spans; a span with a business key -> an event."""

    rules: OtlpRules
    name: str = "otlp.traces"

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult:
        spans, rejected = otlp.decode_traces(payload, _encoding(context))
        events = [span_event(s, self.rules) for s in spans]
        return ParseResult.of(list(spans), events, rejected)


@dataclass(frozen=True, slots=True)
class OtlpLogs:
    """ExportLogsServiceRequest -> log records; keyed error records -> events."""

    rules: OtlpRules
    name: str = "otlp.logs"

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult:
        records, rejected = otlp.decode_logs(payload, _encoding(context))
        events = [log_event(r, self.rules, received_ns=context.received_ns) for r in records]
        return ParseResult.of(list(records), events, rejected)


@dataclass(frozen=True, slots=True)
class OtlpMetrics:
    """ExportMetricsServiceRequest -> metric points (no events)."""

    name: str = "otlp.metrics"

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult:
        points, rejected = otlp.decode_metrics(payload, _encoding(context))
        return ParseResult.of(list(points), [None] * len(points), rejected)


@dataclass(frozen=True, slots=True)
class LogLines:
    """UTF-8 log text (plain lines or NDJSON) -> log records; keyed error lines -> events."""

    rules: LogRules
    otlp_rules: OtlpRules
    name: str = "log"

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult:
        text = payload.decode("utf-8", errors="replace")
        records = parse_lines(text, rules=self.rules, source=context.source or "unknown")
        events = [
            log_event(
                r,
                self.otlp_rules,
                received_ns=context.received_ns,
                object_types=self.rules.object_types,
                events=self.rules.events,
            )
            for r in records
        ]
        return ParseResult.of(list(records), events, [])


@dataclass(frozen=True, slots=True)
class X12Documents:
    """An X12 interchange -> one event per purchase-order document or acknowledgement.

    Raises x12.X12Error when the bytes are not X12 at all; a broken document is refused.
    """

    name: str = "x12"

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult:
        events, rejected = x12.parse_x12(payload, source=context.source)
        return ParseResult(events=list(events), rejected=rejected)


@dataclass(frozen=True, slots=True)
class EdifactDocuments:
    """An EDIFACT interchange -> one event per message (ORDERS, ..., CONTRL).

    Raises edifact.EdifactError when the bytes are not EDIFACT at all; a broken message is
    refused.
    """

    name: str = "edifact"

    def parse(self, payload: bytes, context: ParseContext) -> ParseResult:
        events, rejected = edifact.parse_edifact(payload, source=context.source)
        return ParseResult(events=list(events), rejected=rejected)


class Registry:
    """Adapters by name."""

    def __init__(self, adapters: list[SourceAdapter]) -> None:
        self._adapters = {a.name: a for a in adapters}

    def __getitem__(self, name: str) -> SourceAdapter:
        return self._adapters[name]

    def names(self) -> list[str]:
        return sorted(self._adapters)


def build_registry(*, otlp_rules: OtlpRules, log_rules: LogRules) -> Registry:
    """The shipped adapters, configured with the given rules."""
    return Registry(
        [
            OtlpTraces(otlp_rules),
            OtlpLogs(otlp_rules),
            OtlpMetrics(),
            LogLines(log_rules, otlp_rules),
            X12Documents(),
            EdifactDocuments(),
        ]
    )
