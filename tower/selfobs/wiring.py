"""One app's self-observability, built from settings: monitor, metrics, tracing, job tracker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry

from tower.clock import Clock, utc_now
from tower.db import Store
from tower.selfobs.health import HealthPolicy, Monitor, WriterLike
from tower.selfobs.jobs import JobTracker
from tower.selfobs.metrics import SelfMetrics
from tower.selfobs.telemetry import Tracing, metric_readers, resource, start_tracing
from tower.settings import Settings

__all__ = ["SelfObs", "policy_from", "start"]


@dataclass(slots=True)
class SelfObs:
    monitor: Monitor
    metrics: SelfMetrics
    tracing: Tracing
    jobs: JobTracker
    to_itself: bool = False  # OTLP to the tower's own receiver
    metric_exporters: tuple[MetricExporter, ...] = ()

    def flush(self) -> None:
        """Export every span and metric now."""
        self.tracing.flush()
        self.metrics.flush()

    def stop(self) -> None:
        if self.to_itself:
            # The server stopped listening before the lifespan ends: a last export to itself
            # could only retry until its timeout. Shut the exporters first: nothing is sent.
            for span_exporter in self.tracing.exporters:
                span_exporter.shutdown()
            for metric_exporter in self.metric_exporters:
                metric_exporter.shutdown()
        self.metrics.shutdown()
        self.tracing.stop()


def policy_from(settings: Settings) -> HealthPolicy:
    """The health thresholds an operator set."""
    return HealthPolicy(
        correlator_max_lag=settings.health_correlator_max_lag,
        job_missed_intervals=settings.health_job_missed_intervals,
        job_grace=settings.health_job_grace,
        min_disk_free_ratio=settings.health_min_disk_free,
        receiver_window=settings.health_receiver_window,
    )


def start(
    settings: Settings,
    *,
    store: Store,
    writer: WriterLike,
    clock: Clock,
    registry: CollectorRegistry,
    span_exporters: Sequence[SpanExporter] = (),
    extra_metric_readers: Sequence[MetricReader] = (),
) -> SelfObs:
    """Configure the SDK from settings and watch this app's parts."""
    endpoint = settings.telemetry_endpoint or f"http://{settings.host}:{settings.port}"
    monitor = Monitor(store=store, writer=writer, policy=policy_from(settings))
    network: list[MetricExporter] = []
    readers = [
        *metric_readers(
            mode=settings.telemetry,
            endpoint=endpoint,
            export_every_seconds=settings.telemetry_export_every.total_seconds(),
            network=network,
        ),
        *extra_metric_readers,
    ]
    metrics = SelfMetrics(
        registry=registry,
        figures=lambda now: monitor.figures(now=now),
        clock=clock,
        readers=readers,
        resource=resource(settings.telemetry_service_name),
    )
    tracing = start_tracing(
        mode=settings.telemetry,
        endpoint=endpoint,
        service_name=settings.telemetry_service_name,
        extra_exporters=span_exporters,
    )
    # APScheduler runs the jobs on the wall clock, so their runs are wall-clock facts: recorded
    # with utc_now, not the injectable business clock (a test's fixed clock would make every job
    # look hours stale, or fresh, whatever the scheduler really did).
    jobs = JobTracker(store=store, clock=utc_now, on_run=metrics.job_run)
    own = {f"http://{settings.host}:{settings.port}", f"http://localhost:{settings.port}"}
    return SelfObs(
        monitor=monitor,
        metrics=metrics,
        tracing=tracing,
        jobs=jobs,
        to_itself=settings.telemetry == "otlp" and endpoint.rstrip("/") in own,
        metric_exporters=tuple(network),
    )
