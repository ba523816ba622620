"""The collector's Prometheus figures, registered on the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from collector.writer import CommitStats

__all__ = ["IngestMetrics"]


class IngestMetrics:
    """Counters for what ingest did and how long commits took."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.accepted = Counter("tower_events_accepted", "Events stored.", registry=registry)
        self.duplicates = Counter(
            "tower_events_duplicate", "Events already stored, not stored again.", registry=registry
        )
        self.rejected = Counter(
            "tower_events_rejected",
            "Items refused by validation (recorded in rejects).",
            registry=registry,
        )
        self.requests = Counter(
            "tower_ingest_requests",
            "Ingest requests by HTTP status.",
            ["status"],
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "tower_batch_commit_seconds",
            "Duration of one group commit.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.commit_events = Histogram(
            "tower_batch_commit_events",
            "Events in one group commit.",
            buckets=(1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000),
            registry=registry,
        )
        self.telemetry_requests = Counter(
            "tower_telemetry_requests",
            "OTLP and log requests by source kind (otlp.traces, otlp.logs, ...) and HTTP status.",
            ["adapter", "status"],
            registry=registry,
        )
        self.telemetry_records = Counter(
            "tower_telemetry_records",
            "Spans, log records and metric points: stored, or refused by the adapter.",
            ["adapter", "outcome"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "tower_writer_queue_events", "Events waiting for the writer.", registry=registry
        )

    def on_commit(self, stats: CommitStats) -> None:
        self.commit_seconds.observe(stats.seconds)
        self.commit_events.observe(stats.events)
