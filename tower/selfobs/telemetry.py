"""The OpenTelemetry SDK for the tower's own spans and metrics, configured in one place.

Not to be confused with collector/telemetry.py, the OTLP intake for other systems' telemetry.

Spans are made where the work happens (collector/pipeline.py, correlator/jobs.py, sla/jobs.py,
alerts/jobs.py) through the OpenTelemetry API's global tracer, as libraries do. The tracer
provider is global and can be set only once per process, so the tower installs it once with a
switch in front of its exporters: each app (tests start many in one process) points the switch
at its own exporters and detaches them when it stops. With telemetry off and nothing installed,
the API's tracers are no-ops and cost nothing.

Metrics need no global: each app has its own MeterProvider (tower/selfobs/metrics.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

__all__ = ["TelemetryMode", "Tracing", "metric_readers", "resource", "start_tracing"]

log = logging.getLogger(__name__)

TelemetryMode = Literal["off", "console", "otlp"]
# The self-export must not hold up a shutdown for long when the tower is its own endpoint and
# has already stopped listening.
EXPORT_TIMEOUT_SECONDS = 5


def resource(service_name: str) -> Resource:
    """Who the spans and metrics come from."""
    return Resource.create({"service.name": service_name, "service.namespace": "control-tower"})


class _Switch(SpanProcessor):
    """The one processor on the global provider; forwards to the current app's processors."""

    def __init__(self) -> None:
        self.targets: tuple[SpanProcessor, ...] = ()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for target in self.targets:
            target.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for target in self.targets:
            target.on_end(span)

    def shutdown(self) -> None:
        for target in self.targets:
            target.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(target.force_flush(timeout_millis) for target in self.targets)


_lock = threading.Lock()
_switch: _Switch | None = None


def _installed_switch(service_name: str) -> _Switch:
    global _switch
    with _lock:
        if _switch is None:
            _switch = _Switch()
            current = trace.get_tracer_provider()
            if isinstance(current, TracerProvider):  # someone set an SDK provider: join it
                current.add_span_processor(_switch)
            else:
                provider = TracerProvider(resource=resource(service_name))
                provider.add_span_processor(_switch)
                trace.set_tracer_provider(provider)
        return _switch


class Tracing:
    """This app's span exporters, attached to the global provider until stop()."""

    def __init__(
        self,
        processors: tuple[SpanProcessor, ...],
        switch: _Switch | None,
        exporters: tuple[SpanExporter, ...] = (),
    ) -> None:
        self._processors = processors
        self._switch = switch
        self.exporters = exporters  # the network ones (OTLP), for a shutdown without export

    def flush(self, timeout_millis: int = 10_000) -> bool:
        """Export every finished span now (tests, and before a shutdown)."""
        return all(p.force_flush(timeout_millis) for p in self._processors)

    def stop(self) -> None:
        """Detach and shut down this app's exporters (flushing what they hold)."""
        if self._switch is not None:
            with _lock:
                self._switch.targets = tuple(
                    t for t in self._switch.targets if t not in self._processors
                )
        for processor in self._processors:
            try:
                processor.shutdown()
            except Exception:  # an exporter that fails at shutdown must not stop the tower's
                log.warning("span exporter failed to shut down", exc_info=True)


def start_tracing(
    *,
    mode: TelemetryMode,
    endpoint: str,
    service_name: str,
    extra_exporters: Sequence[SpanExporter] = (),
) -> Tracing:
    """Route the tower's spans: nowhere (off), to stdout (console), or OTLP/HTTP to `endpoint`.

    `extra_exporters` (tests: an InMemorySpanExporter) get every span synchronously.
    """
    processors: list[SpanProcessor] = [SimpleSpanProcessor(e) for e in extra_exporters]
    network: list[SpanExporter] = []
    if mode == "console":
        processors.append(BatchSpanProcessor(ConsoleSpanExporter()))
    elif mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = endpoint.rstrip("/") + "/v1/traces"
        network.append(OTLPSpanExporter(endpoint=url, timeout=EXPORT_TIMEOUT_SECONDS))
        processors.append(BatchSpanProcessor(network[-1]))
    if not processors:
        return Tracing((), None)
    switch = _installed_switch(service_name)
    with _lock:
        switch.targets = (*switch.targets, *processors)
    log.info("the tower's own spans go to: %s", mode if mode != "off" else "test exporters")
    return Tracing(tuple(processors), switch, tuple(network))


def metric_readers(
    *,
    mode: TelemetryMode,
    endpoint: str,
    export_every_seconds: float,
    network: list[MetricExporter] | None = None,
) -> list[MetricReader]:
    """The readers that export the tower's own metrics for a mode (none when off).

    OTLP exporters are also appended to `network`, to shut them down without a last export.
    """
    interval = export_every_seconds * 1000
    if mode == "console":
        return [
            PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=interval)
        ]
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        url = endpoint.rstrip("/") + "/v1/metrics"
        exporter = OTLPMetricExporter(endpoint=url, timeout=EXPORT_TIMEOUT_SECONDS)
        if network is not None:
            network.append(exporter)
        return [PeriodicExportingMetricReader(exporter, export_interval_millis=interval)]
    return []
