"""Spans and log lines from the demo estate: what the stream holds, that the tower's shipped
rules read it as intended, and what a real tower makes of it (only its public API is fed)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from adapters.derive import load_otlp_rules, log_event, span_event
from adapters.logs import load_log_rules, parse_lines
from adapters.records import Scope, Span
from correlator.jobs import run_once
from correlator.models import ModelSet, load_models
from simulator import HttpEventSink, RunOptions, SimulatorThread, items, run
from simulator.records import Emission, FaultRecord, LogLine, TraceRecord
from simulator.runner import rounds
from simulator.telemetry import SPAN_KEYS
from tests.servers import ThreadServer
from tests.simulator.support import EVERY_FAULT, NOW, options_for, scenario_data
from tower.model import SYSTEMS, Event
from tower.settings import Settings

ON = {"spans": True, "logs": True}
# Every fault, plus dead letters on the order queue (EVERY_FAULT's hit stock messages only).
FAULTS = [
    *EVERY_FAULT,
    {"kind": "dead_letter", "name": "order-dlq", "queue": "orders.oms-to-erp", "rate": 0.05,
     "replay_after": "1h"},
]  # fmt: skip
Signal = TraceRecord | LogLine


def telemetry_options(
    faults: list[dict[str, Any]], *, backfill: str = "12h", **kw: Any
) -> RunOptions:
    return options_for({**scenario_data(faults=faults, backfill=backfill), "telemetry": ON}, **kw)


def signals(options: RunOptions) -> list[Signal]:
    return [i for i in items(options=options, now=NOW) if isinstance(i, TraceRecord | LogLine)]


@pytest.fixture(scope="module")
def faulted() -> list[Any]:
    return list(items(options=telemetry_options(FAULTS), now=NOW))


def test_the_same_seed_gives_the_same_spans_and_lines_and_no_other_event(
    faulted: list[Any],
) -> None:
    again = list(items(options=telemetry_options(FAULTS), now=NOW))
    assert [i for i in again if isinstance(i, TraceRecord | LogLine)] == [
        i for i in faulted if isinstance(i, TraceRecord | LogLine)
    ]  # ids, times and text: the ids are planned from the seed, not left to the SDK
    other = signals(options_for({**scenario_data(faults=FAULTS, backfill="12h"), "seed": 43,
                                 "telemetry": ON}))  # fmt: skip
    mine = {s.trace_id for s in faulted if isinstance(s, TraceRecord)}
    assert not mine & {s.trace_id for s in other if isinstance(s, TraceRecord)}

    # Telemetry draws on no random stream: the events and the ground truth are those of the
    # same run without it.
    plain = list(items(options=options_for(scenario_data(faults=FAULTS, backfill="12h")), now=NOW))
    assert [i.to_json() for i in faulted if isinstance(i, Emission | FaultRecord)] == [
        i.to_json() for i in plain if isinstance(i, Emission | FaultRecord)
    ]


def ns(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def _span(record: TraceRecord, index: int) -> Span:
    plan = record.spans[index]
    return Span(
        trace_id=record.trace_id,
        span_id=plan.span_id,
        parent_span_id=plan.parent,
        name=plan.name,
        kind=plan.kind.upper(),
        start_ns=ns(plan.start),
        end_ns=ns(plan.end),
        status_code="ERROR" if plan.error else "UNSET",
        status_message=plan.error,
        attributes=dict(plan.attributes),
        scope=Scope(resource={"service.name": record.service}),
    )


def _joins_a_model(event: Event, models: ModelSet) -> None:
    """The event is valid and names its object only by that object's aliases."""
    Event.model_validate(event.model_dump())
    model = models.for_object_type(event.object_type)
    assert model is not None and set(event.keys) <= set(model.aliases), event
    assert event.system in SYSTEMS and event.system != "other", event


def test_the_shipped_rules_read_spans_and_lines_as_events_of_the_right_journey(
    faulted: list[Any],
) -> None:
    models, otlp, logs = load_models(), load_otlp_rules(), load_log_rules()
    rules = {rule.attribute: rule for rule in otlp.keys}
    for namespace, attribute in SPAN_KEYS.items():  # the simulator's table agrees with the rules
        assert rules[attribute].namespace == namespace
        model = models.for_object_type(str(rules[attribute].object_type))
        assert model is not None and namespace in model.aliases

    derived: Counter[str] = Counter()
    for signal in faulted:
        if isinstance(signal, TraceRecord):
            events = [span_event(_span(signal, i), otlp) for i in range(len(signal.spans))]
            found = [e for e in events if e is not None]
            assert bool(found) == signal.joins, signal
            for event in found:
                _joins_a_model(event, models)
                derived[f"span {event.type} {event.status}"] += 1
        elif isinstance(signal, LogLine):
            (record,) = parse_lines(signal.text, rules=logs, source=signal.source)
            assert record.extractor == ("json" if signal.ndjson else "keyvalue"), signal
            assert record.time_ns == ns(signal.at)
            assert set(record.keys) <= {"oms_order", "erp_sales_order"}, signal
            from_line = log_event(
                record, otlp, received_ns=0, object_types=logs.object_types, events=logs.events
            )
            assert (from_line is not None) == signal.joins, signal
            if from_line is not None:
                _joins_a_model(from_line, models)
                derived[f"log {from_line.source} {from_line.status}"] += 1
    assert derived["span process.orders.oms-to-erp error"] > 0  # posting errors, dead letters
    assert derived["span translate.x12.855 ok"] > 0 and derived["span translate.x12.856 ok"] > 0
    assert derived["log erp.s4.sales-orders error"] > 0
    assert derived["log middleware.order-to-erp error"] > 0  # dead letters
    assert {"log erp.s4.sales-orders ok", "log middleware.order-to-erp ok"}.isdisjoint(derived)


def test_every_posting_error_and_dead_letter_shows_in_a_span_and_a_log_line(
    faulted: list[Any],
) -> None:
    traces = [s for s in faulted if isinstance(s, TraceRecord)]
    errors = {
        (t.spans[0].attributes.get("order.id"), t.spans[0].error)
        for t in traces
        if t.spans[0].error
    }
    lines = [s for s in faulted if isinstance(s, LogLine) and "ERROR" in s.text]
    checked: Counter[str] = Counter()
    for record in faulted:
        if not isinstance(record, FaultRecord) or record.fault not in {"erp_posting_error",
                                                                        "dead_letter"}:  # fmt: skip
            continue
        order = next((v for kind, ns, v in record.journeys if ns == "oms_order"), None)
        if order is None or record.detail["type"] != "order.accepted":
            continue  # stock messages carry no key the shipped rules read
        error = record.detail.get("error") or next(
            str(e.event["error"]) for e in faulted
            if isinstance(e, Emission) and e.event_id == record.event_ids[0]
        )  # fmt: skip
        assert (order, error) in errors
        source = "erp.s4.sales-orders" if record.fault == "erp_posting_error" else (
            "middleware.order-to-erp")  # fmt: skip
        assert any(line.source == source and order in line.text for line in lines), record
        checked[record.fault] += 1
    assert checked["erp_posting_error"] > 0 and checked["dead_letter"] > 0


def test_rounds_send_each_storys_journey_events_in_stream_order(faulted: list[Any]) -> None:
    deliveries = [i for i in faulted if not isinstance(i, FaultRecord)]
    sent = []
    plan = rounds(deliveries)
    assert plan[0][0][0] == ("events", "")  # an unreachable tower fails on an event post
    for number, lanes in enumerate(plan):
        for _, group in lanes:
            sent += group
            if number:  # only what becomes a journey's event waits for a later round
                assert all(not isinstance(i, TraceRecord | LogLine) or i.joins for i in group)
    assert len(sent) == len(deliveries)
    assert len(plan) < 40  # a handful of requests, not one per switch between channels

    def joined(order: list[Any]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for item in order:
            if not isinstance(item, TraceRecord | LogLine) or item.joins:
                out.setdefault(item.story, []).append(id(item))
        return out

    assert joined(sent) == joined(deliveries)


def _settings(tmp_path: Path) -> Settings:
    # The test stitches with run_once itself; the server's own correlator stays out of its way.
    return Settings(db_path=tmp_path / "tower.duckdb", correlate_every="PT1H")  # type: ignore[arg-type]


def _stitch(server: ThreadServer) -> None:
    models = load_models()
    while run_once(store=server.app.state.store, models=models).events:
        pass


def _count(server: ThreadServer, table: str) -> int:
    rows = server.app.state.store.query(f"SELECT count(*) AS n FROM {table}", doing="test")
    return int(rows[0]["n"])


def test_a_real_tower_stores_the_spans_and_lines_and_shows_errors_on_the_journey(
    tmp_path: Path,
) -> None:
    faults = [
        {"kind": "erp_posting_error", "name": "erp", "rate": 0.1, "types": ["order.accepted"],
         "retry_after": "30m"},
        {"kind": "dead_letter", "name": "dlq", "queue": "inventory.wms-to-erp", "rate": 0.2},
    ]  # fmt: skip
    options = telemetry_options(faults, backfill="8h", ground_truth=tmp_path / "truth.ndjson")
    planned = signals(options)
    with ThreadServer(_settings(tmp_path)) as server, httpx.Client(base_url=server.url) as http:
        with HttpEventSink(server.url) as sink:  # its tower gets the spans and lines too
            summary = run(options=options, sink=sink)
        assert summary.rejected == [] and http.get("/api/v1/rejects").json()["items"] == []
        assert summary.spans == _count(server, "spans") > 100
        assert summary.log_lines == _count(server, "log_records") > 100

        # The SDK exported the planned ids: a trace reads back span for span.
        trace = next(s for s in planned if isinstance(s, TraceRecord) and len(s.spans) == 2)
        stored = http.get(f"/api/v1/traces/{trace.trace_id}").json()["items"]
        assert {s["span_id"] for s in stored} == {p.span_id for p in trace.spans}
        assert {s["service_name"] for s in stored} == {trace.service}

        _stitch(server)
        truth = [
            orjson.loads(line) for line in (tmp_path / "truth.ndjson").read_bytes().splitlines()
        ]
        posting = next(t for t in truth if t.get("fault") == "erp_posting_error")
        order = posting["journeys"][0]["keys"]["oms_order"]
        spans = http.get("/api/v1/spans", params={"key": order}).json()["items"]
        # The failed posting, and its retry half an hour later.
        assert [(s["name"], s["status_code"]) for s in spans] == [
            ("process orders.oms-to-erp", "ERROR"),
            ("process orders.oms-to-erp", "UNSET"),
        ]
        failed = spans[0]
        assert failed["status_message"] == posting["detail"]["error"]
        whole = http.get(f"/api/v1/traces/{failed['trace_id']}").json()["items"]
        assert [(s["name"], s["status_code"]) for s in whole] == [
            ("process orders.oms-to-erp", "ERROR"),
            ("POST /A_SalesOrder", "ERROR"),  # the call into the ERP, which said no
        ]

        (found,) = http.get("/api/v1/journeys/search", params={"q": order}).json()["items"]
        journey = http.get(f"/api/v1/journeys/{found['journey_id']}").json()
        errors = {e["source"] for e in journey["events"] if e["status"] == "error"}
        # The ERP's own event, the interface's span and the ERP's interface log line.
        assert errors == {"erp.s4", "middleware.order-to-erp", "erp.s4.sales-orders"}
        assert {a["kind"] for a in journey["anomalies"]} == {"error"}
        assert journey["stage"] is not None

        # A second run sends the same spans: the tower already has every one of them.
        with HttpEventSink(server.url) as sink:
            again = run(options=options, sink=sink)
        assert again.spans == summary.spans and again.accepted == 0
        assert _count(server, "spans") == summary.spans


def test_a_clean_run_with_telemetry_raises_no_reject_and_no_anomaly(tmp_path: Path) -> None:
    options = telemetry_options([], backfill="12h")
    with ThreadServer(_settings(tmp_path)) as server, httpx.Client(base_url=server.url) as http:
        simulator = SimulatorThread(url=server.url, options=options)  # `tower demo`'s way
        simulator.start()
        simulator.join(60)
        assert not simulator.is_alive() and simulator.error is None
        summary = simulator.summary
        assert summary is not None and summary.rejected == [] and summary.spans > 0
        assert http.get("/api/v1/rejects").json()["items"] == []
        _stitch(server)
        stored = http.get("/api/v1/health").json()["events"]
        assert stored > summary.sent  # keyed spans became events of their own ...
        anomalous = server.app.state.store.query(
            "SELECT label, anomalies FROM journeys WHERE anomaly_count > 0", doing="test"
        )
        assert anomalous == []  # ... and no journey saw anything out of order
