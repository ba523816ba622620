"""The small records telemetry becomes: spans, log records, metric points.

Plain frozen dataclasses, JSON-ready values only (str, int, float, bool, None, lists, dicts), so
the collector can turn a list of them into one Arrow table. Times are Unix nanoseconds (0 or None
when the source gave none), as OTLP carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LogRecord", "MetricPoint", "QueueSample", "Rejected", "Scope", "Span"]

Attributes = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a record came from: the resource (service) and the instrumentation scope."""

    resource: Attributes = field(default_factory=dict)
    name: str | None = None
    version: str | None = None
    attributes: Attributes = field(default_factory=dict)

    @property
    def service_name(self) -> str | None:
        value = self.resource.get("service.name")
        return str(value) if value not in (None, "") else None


@dataclass(frozen=True, slots=True)
class Span:
    """One OTLP span, ids as lower-case hex."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # UNSPECIFIED INTERNAL SERVER CLIENT PRODUCER CONSUMER
    start_ns: int
    end_ns: int
    status_code: str  # UNSET OK ERROR
    status_message: str | None
    attributes: Attributes
    scope: Scope
    trace_state: str | None = None
    flags: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log record: from OTLP, or one line (with its continuation lines) of a log file."""

    time_ns: int | None
    observed_ns: int | None
    severity_number: int  # OTLP: 0 unset, 1 TRACE, 5 DEBUG, 9 INFO, 13 WARN, 17 ERROR, 21 FATAL
    severity_text: str | None
    body: Any  # a string for text lines; any JSON value for OTLP
    attributes: Attributes
    scope: Scope
    trace_id: str | None = None
    span_id: str | None = None
    event_name: str | None = None
    source: str | None = None  # the given source of a log file or post; else service.name
    keys: dict[str, str] = field(default_factory=dict)  # keys an extractor found, by namespace
    extractor: str | None = None  # which extractor matched a text line; "otlp" for OTLP

    @property
    def is_error(self) -> bool:
        """ERROR or worse on the OTLP severity scale."""
        return self.severity_number >= 17


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One data point of one OTLP metric."""

    name: str
    kind: str  # gauge sum histogram exponential_histogram summary
    time_ns: int
    start_ns: int | None
    value: float | None  # gauge and sum points; None for distributions
    attributes: Attributes
    scope: Scope
    description: str | None = None
    unit: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # count, sum, buckets, quantiles, ...


@dataclass(frozen=True, slots=True)
class QueueSample:
    """One queue's state at one moment: depth, flow and whether it holds dead letters."""

    time_ns: int
    broker: str
    vhost: str  # "" where the broker has no virtual hosts
    queue: str
    depth: int
    origin: str  # rabbitmq | prometheus | api
    ready: int | None = None
    unacked: int | None = None
    consumers: int | None = None
    publish_rate: float | None = None
    deliver_rate: float | None = None
    oldest_age_seconds: float | None = None
    dead_letter: bool = False
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejected:
    """One item of a payload refused by an adapter, and why."""

    index: int
    reason: str
