"""The tower's own spans and metrics through the real OpenTelemetry SDK: to in-process exporters,
to the tower's own OTLP receiver, and the same figures on Prometheus /metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.factories import make_events
from tests.servers import free_port, wait_healthy
from tests.sla.support import Receiver
from tower.app import create_app
from tower.settings import Settings

# One SLA that the test data breaks (1 of 4 items refused), so the alert cycle sends something.
SLAS = """
slas:
  - {name: rejects_seen, kind: tower, check: reject_rate, window: 15m, max_ratio: 0.01,
     min_items: 1}
"""
ALERTS = """
route: {{receiver: oncall, group_by: [alertname], group_wait: 0s}}
receivers:
  - name: oncall
    webhook_configs: [{{url: "{url}"}}]
delivery: {{first_retry: 10s}}
"""


@contextmanager
def serve(app: FastAPI, port: int) -> Iterator[str]:
    """uvicorn on 127.0.0.1:port in a thread (ThreadServer builds its own app; this takes one)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Tower:
    app: FastAPI
    http: httpx.Client
    now: datetime

    def run_job(self, job_id: str) -> None:
        """Run a scheduled job now, through the scheduler's (recording) wrapper."""
        job = self.app.state.scheduler.get_job(job_id)
        job.func(*job.args, **job.kwargs)


def spans_named(spans: tuple[ReadableSpan, ...], name: str) -> list[dict[str, Any]]:
    return [dict(s.attributes or {}) for s in spans if s.name == name]


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Metric name -> its data points, from one collection."""
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics:
        assert resource.resource.attributes["service.name"] == "control-tower"
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def tower(
    tmp_path: Path, exporter: InMemorySpanExporter, reader: InMemoryMetricReader
) -> Iterator[Tower]:
    (tmp_path / "slas.yaml").write_text(SLAS)
    with Receiver() as receiver:
        receiver.fail_next = 1  # the first delivery fails, the retry gets through
        (tmp_path / "alerts.yaml").write_text(ALERTS.format(url=receiver.url))
        settings = Settings(
            db_path=tmp_path / "tower.duckdb",
            correlate_every=timedelta(hours=1),  # the test runs the jobs itself
            sla_every=timedelta(hours=1),
            sla_file=tmp_path / "slas.yaml",
            alerts_file=tmp_path / "alerts.yaml",
        )
        holder: dict[str, Tower] = {}
        start = datetime.now(UTC)
        app = create_app(
            settings,
            clock=lambda: holder["t"].now if holder else start,
            span_exporters=[exporter],
            metric_readers=[reader],
        )
        with serve(app, free_port()) as url, httpx.Client(base_url=url, timeout=30) as http:
            holder["t"] = Tower(app, http, start)
            yield holder["t"]


def test_a_span_per_batch_run_evaluation_and_attempt_with_their_figures(
    tower: Tower, exporter: InMemorySpanExporter
) -> None:
    events = make_events(3, prefix="span")
    tower.http.post("/api/v1/events", json=[*events, {"not": "an event"}])
    tower.http.post("/api/v1/events", json=events)  # a replay: all duplicates
    batches = spans_named(exporter.get_finished_spans(), "tower.ingest.batch")
    assert [
        {k: v for k, v in b.items() if k != "tower.ingest.commit_wait_seconds"} for b in batches
    ] == [
        {
            "tower.ingest.size": 4,
            "tower.ingest.accepted": 3,
            "tower.ingest.duplicates": 0,
            "tower.ingest.rejected": 1,
        },
        {
            "tower.ingest.size": 3,
            "tower.ingest.accepted": 0,
            "tower.ingest.duplicates": 3,
            "tower.ingest.rejected": 0,
        },
    ]
    assert all(0 < b["tower.ingest.commit_wait_seconds"] < 60 for b in batches)

    tower.run_job("correlate")
    [run] = spans_named(exporter.get_finished_spans(), "tower.correlator.run")
    assert run["tower.correlator.events"] == 3
    assert run["tower.correlator.journeys_touched"] == 3
    assert run["tower.correlator.watermark"] == 3
    assert run["tower.correlator.watermark_delay_seconds"] >= 0

    tower.now += timedelta(seconds=1)
    tower.run_job("sla_alerts")
    [evaluation] = spans_named(exporter.get_finished_spans(), "tower.sla.evaluate")
    assert evaluation["tower.sla.evaluated"] == 1
    assert evaluation["tower.sla.breaches"] == 1
    assert evaluation["tower.sla.breached"] == ("rejects_seen",)
    [attempt] = spans_named(exporter.get_finished_spans(), "tower.notification.attempt")
    assert attempt["tower.notification.receiver"] == "oncall"
    assert attempt["tower.notification.integration"] == "webhook"
    assert attempt["tower.notification.attempt"] == 1
    assert attempt["tower.notification.outcome"] == "failed"
    assert attempt["tower.notification.status_code"] == 500

    tower.now += timedelta(minutes=1)  # past the retry's backoff
    tower.run_job("sla_alerts")
    attempts = spans_named(exporter.get_finished_spans(), "tower.notification.attempt")
    assert [
        (a["tower.notification.attempt"], a["tower.notification.outcome"]) for a in attempts
    ] == [
        (1, "failed"),
        (2, "sent"),
    ]


def test_metrics_through_the_sdk_and_the_same_figures_on_prometheus(
    tower: Tower, reader: InMemoryMetricReader
) -> None:
    events = make_events(5, prefix="metric")
    tower.http.post("/api/v1/events", json=[*events, {"not": "an event"}])
    tower.http.post("/api/v1/events", json=events[:2])

    found = points(reader)
    by_outcome = {p.attributes["outcome"]: p.value for p in found["tower.ingest.events"]}
    assert by_outcome == {"accepted": 5, "duplicate": 2, "rejected": 1}
    assert [p.value for p in found["tower.ingest.batches"]] == [2]
    assert [p.value for p in found["tower.correlator.events_waiting"]] == [5]
    assert [p.value for p in found["tower.writer.queue_depth"]] == [0]
    assert found["tower.db.size"][0].value > 0
    assert found["tower.disk.free"][0].value > 0

    tower.now += timedelta(minutes=2)  # the oldest waiting event has waited two minutes
    tower.run_job("sla_alerts")  # one failed delivery (the receiver's first answer is 500)
    tower.run_job("correlate")
    found = points(reader)
    assert [p.value for p in found["tower.correlator.events_waiting"]] == [0]
    assert [p.value for p in found["tower.notification.failures"]] == [1]
    durations = {p.attributes["job"]: p.count for p in found["tower.job.duration"]}
    assert durations == {"correlate": 1, "sla_alerts": 1}

    text = tower.http.get("/metrics").text
    assert "tower_correlator_lag_seconds 0.0" in text
    assert "tower_correlator_events_waiting 0.0" in text
    assert "tower_notification_failures_total 1.0" in text
    assert 'tower_job_duration_seconds_count{job="correlate"} 1.0' in text
    assert 'tower_job_seconds_since_success{job="correlate"}' in text
    assert "tower_database_bytes " in text
    assert "tower_events_rejected_total 1.0" in text


def test_the_tower_exports_to_its_own_otlp_receiver(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        db_path=tmp_path / "tower.duckdb",
        port=port,  # telemetry_endpoint unset: the tower's own /v1 receiver on this port
        telemetry="otlp",
        correlate_every=timedelta(hours=1),
        sla_every=timedelta(hours=1),
    )
    app = create_app(settings)
    with serve(app, port) as url:
        answer = httpx.post(f"{url}/api/v1/events", json=make_events(2, prefix="self")).json()
        assert answer["accepted"] == 2
        app.state.selfobs.flush()  # export now instead of at the next interval
        store = app.state.store
        spans = store.query(
            "SELECT name, service_name, attributes FROM spans WHERE name = 'tower.ingest.batch'",
            doing="reading the tower's own spans",
        )
        metrics = store.query(
            "SELECT name, value, attributes FROM metric_points"
            " WHERE name IN ('tower.ingest.events', 'tower.correlator.events_waiting')",
            doing="reading the tower's own metrics",
        )
    [span] = spans
    assert span["service_name"] == "control-tower"
    attributes = orjson.loads(span["attributes"])
    assert attributes["tower.ingest.accepted"] == 2
    assert attributes["tower.ingest.size"] == 2
    stored = {
        (m["name"], orjson.loads(m["attributes"]).get("outcome")): m["value"] for m in metrics
    }
    assert stored[("tower.ingest.events", "accepted")] == 2
    assert stored[("tower.correlator.events_waiting", None)] == 2
