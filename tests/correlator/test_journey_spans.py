"""A journey's detail lists the OpenTelemetry spans behind its events."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from correlator.jobs import run_once
from correlator.models import load_models
from tests.factories import make_event
from tests.servers import ThreadServer
from tower.settings import Settings


def export_order_spans(url: str, order: str) -> tuple[str, str]:
    """Through the SDK: a keyed parent, a keyed failed child and a keyless span; their ids."""
    provider = TracerProvider(resource=Resource.create({"service.name": "oms-api"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{url}/v1/traces")))
    tracer = provider.get_tracer("tests.journey_spans")
    with tracer.start_as_current_span("order accepted", attributes={"order.id": order}) as root:
        with tracer.start_as_current_span(
            "erp post", attributes={"order.id": order, "erp.sales_order": "4509001"}
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "credit block"))
        with tracer.start_as_current_span("GET /health"):
            pass  # no key: stored, but no event and so on no journey
    provider.shutdown()
    return f"{root.get_span_context().trace_id:032x}", f"{child.get_span_context().span_id:016x}"


def test_a_journey_lists_the_spans_of_its_events(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "t.duckdb", correlate_every=timedelta(hours=1))
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        trace_id, child_id = export_order_spans(server.url, "W-9001")
        run_once(store=server.app.state.store, models=load_models())

        [found] = http.get("/api/v1/journeys/search", params={"q": "W-9001"}).json()["items"]
        journey = http.get(f"/api/v1/journeys/{found['journey_id']}").json()

    spans = journey["spans"]
    assert [s["name"] for s in spans] == ["order accepted", "erp post"]
    assert {s["trace_id"] for s in spans} == {trace_id}
    failed = spans[1]
    assert failed["span_id"] == child_id
    assert (failed["status_code"], failed["status_message"]) == ("ERROR", "credit block")
    assert failed["service_name"] == "oms-api"
    assert failed["duration_ms"] >= 0 and failed["start_time"] <= failed["end_time"]
    event_ids = {e["event_id"] for e in journey["events"]}
    assert {s["derived_event_id"] for s in spans} <= event_ids


def test_a_journey_without_telemetry_has_no_spans(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "t.duckdb", correlate_every=timedelta(hours=1))
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        event = make_event(type="order.received", keys={"oms_order": "W-9002"}, system="oms")
        assert http.post("/api/v1/events", json=[event]).json()["rejected"] == []
        run_once(store=server.app.state.store, models=load_models())
        [found] = http.get("/api/v1/journeys/search", params={"q": "W-9002"}).json()["items"]
        journey = http.get(f"/api/v1/journeys/{found['journey_id']}").json()

    assert journey["spans"] == []
