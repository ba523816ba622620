"""The tower's own metrics, twice: OpenTelemetry instruments and the Prometheus /metrics page.

Both read the same places: counts pushed per ingest batch and per job run (never per event),
and gauges read from one cached `Figures` snapshot when a reader collects, so a scrape costs a
handful of small queries however many figures it shows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tower.exceptions import StorageError
from tower.selfobs.health import Figures

__all__ = ["SelfMetrics"]

log = logging.getLogger(__name__)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Readers (a scrape, an OTLP export) ask for each gauge in turn; one snapshot serves them all.
# A batch or a job run taken since makes it stale at once, so a read after them sees them.
SNAPSHOT_TTL_SECONDS = 1.0


class _Snapshot:
    def __init__(self, read: Callable[[], Figures]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._value: Figures | None = None
        self._taken = 0.0

    def get(self) -> Figures | None:
        with self._lock:
            if self._value is None or time.monotonic() - self._taken > SNAPSHOT_TTL_SECONDS:
                try:
                    self._value = self._read()
                except StorageError:
                    log.warning("cannot read the tower's figures for metrics", exc_info=True)
                    return None
                self._taken = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


class _PrometheusFigures(Collector):
    def __init__(self, snapshot: _Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        f = self._snapshot.get()
        if f is None:
            return
        yield GaugeMetricFamily(
            "tower_correlator_lag_seconds",
            "How long the oldest event not yet stitched has waited; 0 when caught up.",
            value=f.correlator_lag_seconds,
        )
        yield GaugeMetricFamily(
            "tower_correlator_events_waiting",
            "Events stored but not yet stitched.",
            value=f.correlator_events_waiting,
        )
        yield GaugeMetricFamily(
            "tower_database_bytes", "The database file and its WAL.", value=f.db_bytes
        )
        yield GaugeMetricFamily(
            "tower_disk_free_bytes", "Free space on the database's disk.", value=f.disk_free_bytes
        )
        yield CounterMetricFamily(
            "tower_notification_failures",
            "Failed alert delivery attempts, ever.",
            value=f.notification_failures,
        )
        since = GaugeMetricFamily(
            "tower_job_seconds_since_success",
            "Seconds since each scheduled job last succeeded.",
            labels=["job"],
        )
        for job, seconds in sorted(f.job_seconds_since_success.items()):
            since.add_metric([job], seconds)
        yield since


class SelfMetrics:
    """Instruments for ingest batches and job runs, and observers of the tower's figures."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        figures: Callable[[datetime], Figures],
        clock: Callable[[], datetime],
        readers: Sequence[MetricReader],
        resource: Resource,
    ) -> None:
        self._snapshot = _Snapshot(lambda: figures(clock()))
        registry.register(_PrometheusFigures(self._snapshot))
        self.job_seconds = Histogram(
            "tower_job_duration_seconds",
            "Duration of one run of a scheduled job.",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.job_failures = Counter(
            "tower_job_failures", "Failed runs of a scheduled job.", ["job"], registry=registry
        )
        # No readers (telemetry off): no MeterProvider, so nothing is aggregated for nobody.
        self.provider = MeterProvider(metric_readers=list(readers), resource=resource)
        self._enabled = bool(readers)
        meter = self.provider.get_meter("tower.selfobs")
        self._events = meter.create_counter(
            "tower.ingest.events", unit="{event}", description="Items ingested, by outcome."
        )
        self._batches = meter.create_counter(
            "tower.ingest.batches", unit="{batch}", description="Ingest requests committed."
        )
        self._commit_wait = meter.create_histogram(
            "tower.ingest.commit_wait", unit="s", description="Wait for the group commit."
        )
        self._batch_size = meter.create_histogram(
            "tower.ingest.batch_size", unit="{item}", description="Items in one ingest request."
        )
        self._job_duration = meter.create_histogram(
            "tower.job.duration", unit="s", description="Duration of a scheduled job's run."
        )
        for name, unit, description, read in (
            ("tower.writer.queue_depth", "{event}", "Events waiting for the writer.",
             lambda f: f.writer_queue_events),
            ("tower.correlator.lag", "s", "How long the oldest unstitched event has waited.",
             lambda f: f.correlator_lag_seconds),
            ("tower.correlator.events_waiting", "{event}", "Events not yet stitched.",
             lambda f: f.correlator_events_waiting),
            ("tower.db.size", "By", "The database file and its WAL.", lambda f: f.db_bytes),
            ("tower.disk.free", "By", "Free space on the database's disk.",
             lambda f: f.disk_free_bytes),
        ):  # fmt: skip
            meter.create_observable_gauge(
                name, callbacks=[self._observe(read)], unit=unit, description=description
            )
        meter.create_observable_counter(
            "tower.notification.failures",
            callbacks=[self._observe(lambda f: f.notification_failures)],
            unit="{attempt}",
            description="Failed alert delivery attempts.",
        )
        meter.create_observable_gauge(
            "tower.job.since_success",
            callbacks=[self._jobs_since_success],
            unit="s",
            description="Seconds since each scheduled job last succeeded.",
        )

    def _observe(
        self, read: Callable[[Figures], float]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def callback(_: CallbackOptions) -> Iterable[Observation]:
            f = self._snapshot.get()
            return [] if f is None else [Observation(read(f))]

        return callback

    def _jobs_since_success(self, _: CallbackOptions) -> Iterable[Observation]:
        f = self._snapshot.get()
        if f is None:
            return []
        return [Observation(s, {"job": j}) for j, s in f.job_seconds_since_success.items()]

    def batch(
        self, *, size: int, accepted: int, duplicates: int, rejected: int, commit_wait: float
    ) -> None:
        """One ingest request committed (Prometheus counts these in collector/metrics.py)."""
        self._snapshot.invalidate()
        if not self._enabled:
            return
        self._batches.add(1)
        self._events.add(accepted, {"outcome": "accepted"})
        self._events.add(duplicates, {"outcome": "duplicate"})
        self._events.add(rejected, {"outcome": "rejected"})
        self._commit_wait.record(commit_wait)
        self._batch_size.record(size)

    def job_run(self, job: str, seconds: float, ok: bool) -> None:
        """One run of a scheduled job finished."""
        self._snapshot.invalidate()
        self.job_seconds.labels(job).observe(seconds)
        if not ok:
            self.job_failures.labels(job).inc()
        if self._enabled:
            self._job_duration.record(seconds, {"job": job, "outcome": "ok" if ok else "error"})

    def flush(self, timeout_millis: float = 10_000) -> bool:
        """Export what the readers hold now."""
        return self.provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        try:
            self.provider.shutdown(timeout_millis=5_000)
        except Exception:  # an exporter failing at shutdown must not stop the tower's
            log.warning("metric exporter failed to shut down", exc_info=True)
