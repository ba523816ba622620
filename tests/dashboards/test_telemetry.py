"""A journey's log records, spans and neighbours: the queries on a real tower (data in through
the events, OTLP and log-line APIs), and the trace page in a real headless Chromium."""

from __future__ import annotations

from typing import Any

from dashboards import queries, telemetry
from tests.dashboards import telemetry_data as data
from tests.dashboards.conftest import Tower


def journey_id(tower: Tower, order: str) -> int:
    [found] = [
        r for r in queries.search(store=tower.store, q=order, now=data.NOW) if r["kind"] == "order"
    ]
    return int(found["journey_id"])


def logs_of(tower: Tower, order: str) -> list[dict[str, Any]]:
    """What the trace page shows: the log records of the journey detail's events and spans."""
    detail = queries.journey(store=tower.store, journey_id=journey_id(tower, order), now=data.NOW)
    assert detail is not None
    return telemetry.journey_logs(
        store=tower.store,
        event_ids=[e["event_id"] for e in detail["events"]],
        trace_ids=[s["trace_id"] for s in detail["spans"]],
    )


def test_logs_are_those_that_made_its_events_or_ran_in_its_traces(extras: Tower) -> None:
    logs = logs_of(extras, "W-2001")
    assert [(r["source"], r["body"]) for r in logs] == [
        ("oms-api", data.INSIDE_TRACE),  # in trace T1, 10:00
        ("erp.s4", data.ERROR_LINE),  # yielded the error event, 10:05
    ]
    assert logs[0]["trace_id"] == data.T1 and logs[1]["derived_event_id"] is not None
    # W-2002 has neither spans nor lines of its own; the line about W-2999 (trace T2) is no one's
    assert logs_of(extras, "W-2002") == []
    assert telemetry.journey_logs(store=extras.store, event_ids=[], trace_ids=[]) == []


def test_neighbours_are_the_other_orders_on_the_same_shipment(extras: Tower) -> None:
    first = telemetry.siblings(store=extras.store, journey_id=journey_id(extras, "W-2001"))
    assert [(r["via_label"], r["label"]) for r in first] == [
        ("wms_shipment:SH-2", "oms_order:W-2002")
    ]
    assert telemetry.siblings(store=extras.store, journey_id=journey_id(extras, "W-2003")) == []


def test_the_trace_page_shows_spans_logs_and_neighbours(page: Any, extras: Tower) -> None:
    from playwright.sync_api import expect

    page.goto(f"{extras.url}/ui/trace?q=W-2001")
    expect(page.locator("#trace-journey h2")).to_contain_text("oms_order:W-2001")
    related = page.locator("#trace-related tbody tr", has_text="same shipment")
    expect(related).to_contain_text("oms_order:W-2002")

    expect(page.locator("#trace-tab-spans")).to_have_text("Spans (1)")
    page.locator("#trace-tab-spans").click()
    expect(page.locator("#trace-spans tbody tr")).to_have_count(1)
    expect(page.locator("#trace-spans")).to_contain_text("order.accepted")
    expect(page.locator("#trace-spans")).to_contain_text("oms-api")
    expect(page.locator("#trace-spans tbody td").nth(4)).to_have_text("420 ms")

    expect(page.locator("#trace-tab-logs")).to_have_text("Logs (2)")
    page.locator("#trace-tab-logs").click()
    rows = page.locator("#trace-logs tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#trace-logs tr.error")).to_contain_text("posting blocked")

    related.locator("a", has_text="W-2002").click()  # the neighbour opens
    page.wait_for_url("**j=*")
    expect(page.locator("#trace-journey h2")).to_contain_text("oms_order:W-2002")
