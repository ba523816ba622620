"""`tower serve` with TOWER_OTLP_PORT: a second port serving only the OTLP/HTTP routes."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.servers import ProcessServer, free_port


def test_an_sdk_exporting_to_the_otlp_port_stores_spans(tmp_path: Path) -> None:
    otlp_port = free_port()
    tower = ProcessServer(tmp_path / "t.duckdb", env={"TOWER_OTLP_PORT": str(otlp_port)})
    tower.start()
    try:
        otlp_url = f"http://127.0.0.1:{otlp_port}"
        provider = TracerProvider(resource=Resource.create({"service.name": "oms-api"}))
        exporter = OTLPSpanExporter(endpoint=f"{otlp_url}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        with provider.get_tracer("tests.otlp_port").start_as_current_span(
            "order accepted", attributes={"order.id": "W-4318"}
        ) as span:
            trace_id = f"{span.get_span_context().trace_id:032x}"
        provider.shutdown()

        with httpx.Client(base_url=tower.url, timeout=30) as http:
            spans = http.get(f"/api/v1/traces/{trace_id}").json()["items"]
            events = http.get("/api/v1/events", params={"key": "W-4318"}).json()["items"]
        assert [s["name"] for s in spans] == ["order accepted"]
        assert [e["type"] for e in events] == ["order.accepted"]

        with httpx.Client(base_url=otlp_url, timeout=30) as otlp:
            refused = otlp.get("/api/v1/health")
            assert refused.status_code == 404
            assert refused.json()["error"] == "not_found"
            assert otlp.get(f"/api/v1/traces/{trace_id}").status_code == 404
    finally:
        tower.stop()
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly
    assert tower.process is not None and tower.process.returncode == -signal.SIGTERM
    assert "Traceback" not in tower.db_path.with_suffix(".log").read_text()
