"""The seed KPI trends (dashboards/kpis.py) on a real DuckDB file with known data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboards import kpis, queries
from tests.dashboards.conftest import Tower
from tests.dashboards.kpi_data import BUCKET, DAY, NOW, SINCE, build, events
from tower.db import Store

CYCLE = {cycle.name: cycle for cycle in kpis.CYCLES}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = build(tmp_path_factory.mktemp("kpis") / "kpis.duckdb", events())
    yield store
    store.close()


def at(hours: float) -> Any:
    return DAY + timedelta(hours=hours)


def cycle(store: Store, name: str, **window: Any) -> list[dict[str, Any]]:
    params = {"now": NOW, "since": SINCE, "bucket": BUCKET, **window}
    return kpis.cycle_trend(store=store, cycle=CYCLE[name], **params)


def test_inventory_latency_is_adjusted_to_channel_per_bucket(store: Store) -> None:
    [row] = cycle(store, "inventory_latency")
    # IC-A 600 s and IC-B 1800 s end in the 09:00 bucket; IC-C never reached a channel and
    # IC-D is two days old
    assert row["bucket"] == at(9)
    assert row["journeys"] == 2
    assert row["p50_seconds"] == pytest.approx(1200)
    assert row["p95_seconds"] == pytest.approx(600 + 0.95 * 1200)


def test_shipment_to_invoice_counts_only_invoiced_orders(store: Store) -> None:
    assert cycle(store, "ship_to_invoice") == [
        {"bucket": at(10), "journeys": 1, "p50_seconds": 9000.0, "p95_seconds": 9000.0}
    ]


def test_supplier_ack_cycle_is_850_sent_to_855_received(store: Store) -> None:
    assert cycle(store, "supplier_ack") == [
        {"bucket": at(11), "journeys": 1, "p50_seconds": 18000.0, "p95_seconds": 18000.0}
    ]


def test_a_cycle_counts_where_it_ends_and_not_before_it_ends(store: Store) -> None:
    # at 10:29 the order is not invoiced yet; the 855 of 11:00 is outside a 10:00-10:59 window
    assert cycle(store, "ship_to_invoice", now=at(10) + timedelta(minutes=29)) == []
    assert cycle(store, "supplier_ack", since=at(10), now=at(10) + timedelta(minutes=59)) == []


def test_partner_health_counts_documents_errors_and_failing_partners(store: Store) -> None:
    rows = kpis.partner_health(store=store, now=NOW, since=SINCE, bucket=BUCKET)
    assert rows == [
        {"bucket": at(6), "documents": 1, "errors": 0, "partners": 1, "partners_failing": 0},
        {"bucket": at(7), "documents": 1, "errors": 1, "partners": 1, "partners_failing": 1},
        {"bucket": at(11), "documents": 1, "errors": 0, "partners": 1, "partners_failing": 0},
    ]


def test_trends_gives_every_seed_kpi(store: Store) -> None:
    found = kpis.trends(store=store, now=NOW, since=SINCE, bucket=BUCKET)
    assert set(found) == {
        "exception_rate",
        "inventory_latency",
        "ship_to_invoice",
        "supplier_ack",
        "partner_health",
    }
    # orders started in the period: W-KPI-1 and W-KPI-2 (each starts past its first stages)
    assert sum(row["journeys"] for row in found["exception_rate"]) == 2
    assert found["exception_rate"] == queries.exception_trend(
        store=store, now=NOW, since=SINCE, bucket=BUCKET
    )
    assert found["inventory_latency"] == cycle(store, "inventory_latency")


def test_an_empty_store_has_empty_trends(tmp_path: Path) -> None:
    store = build(tmp_path / "empty.duckdb", [])
    try:
        found = kpis.trends(store=store, now=NOW, since=SINCE, bucket=BUCKET)
        assert all(rows == [] for rows in found.values())
    finally:
        store.close()


def test_the_executive_page_draws_every_seed_kpi(page: Any, crafted: Tower) -> None:
    from playwright.sync_api import expect

    page.goto(f"{crafted.url}/ui/")
    page.wait_for_selector("#exec-updated:has-text('updated')")
    # crafted data: two stock changes reach the channel, W-1004 is shipped and invoiced
    for name in ("trend", "kpi-inventory_latency", "kpi-ship_to_invoice"):
        expect(page.locator(f"#exec-{name} .scatterlayer .trace").first).to_be_attached()
    # no purchase orders and no EDI documents: each empty chart says so
    expect(page.locator("#exec-kpi-supplier_ack")).to_contain_text(
        "No purchase orders went from sent to acknowledged in this period."
    )
    expect(page.locator("#exec-kpi-partner_health")).to_contain_text("No EDI documents")
