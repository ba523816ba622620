"""Each SLA kind evaluated over a real tower's DuckDB file, the clock on both sides of its line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sla.rules import Breach
from tests.factories import make_event
from tests.sla.support import T0, Tower, order, running_tower

S = timedelta(seconds=1)


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Tower]:
    with running_tower(tmp_path) as running:
        yield running


def breaches(tower: Tower, name: str, at: Any) -> list[Breach]:
    return [b for b in tower.evaluate(at).breaches if b.name == name]


def test_orders_stalled_in_allocation_name_count_value_and_link(tower: Tower) -> None:
    allocated = T0 + timedelta(minutes=10)
    for order_id, value, facility in (
        ("W-1", 120_000.0, "DC-EAST"),
        ("W-2", 62_000.0, "DC-EAST"),
        ("W-3", 10.0, "DC-WEST"),
        ("W-4", 99.0, "DC-EAST"),
    ):
        tower.post(
            order("order.accepted", T0, order_id, facility=facility, value=value, currency="USD"),
            order("order.allocated", allocated, order_id, facility=facility),
        )
    tower.post(order("order.picked", allocated + timedelta(minutes=30), "W-4", system="wms"))

    assert breaches(tower, "orders_stalled_in_allocation", allocated + timedelta(hours=2) - S) == []
    found = breaches(tower, "orders_stalled_in_allocation", allocated + timedelta(hours=2) + S)

    east, west = sorted(found, key=lambda b: b.labels["facility"])
    assert east.summary.startswith("2 orders worth $182k stalled in allocated at DC-EAST for > 2h")
    assert (east.affected, east.amount, east.currency) == (2, 182_000.0, "USD")
    assert east.sample == ["oms_order:W-1", "oms_order:W-2"]
    assert east.labels == {
        "alertname": "orders_stalled_in_allocation",
        "facility": "DC-EAST",
        "role": "stage",
        "severity": "critical",
        "sla_kind": "stalled_in_stage",
        "team": "fulfilment",
    }
    assert (west.labels["facility"], west.affected) == ("DC-WEST", 1)
    assert east.link is not None
    listed = tower.http.get(east.link).json()["items"]
    assert sorted(j["label"] for j in listed) == ["oms_order:W-1", "oms_order:W-2"]


def test_priority_customers_ship_within_24h_others_within_48h(tower: Tower) -> None:
    tower.post(
        order("order.accepted", T0, "P-1", customer="C-3001", value=500.0, currency="USD"),
        order("order.accepted", T0, "P-2", customer="C-3001", value=700.0, currency="USD"),
        order("order.accepted", T0, "S-1", customer="C-1001", value=50.0, currency="USD"),
        order("order.shipped", T0 + timedelta(hours=5), "P-2", system="wms"),
    )

    assert breaches(tower, "order_ship_priority", T0 + timedelta(hours=24) - S) == []
    [late] = breaches(tower, "order_ship_priority", T0 + timedelta(hours=24) + S)
    assert late.sample == ["oms_order:P-1"]
    assert late.summary.startswith(
        "1 orders worth $500 accepted but not shipped within 1d at DC-EAST"
    )
    assert breaches(tower, "order_ship_standard", T0 + timedelta(hours=48) - S) == []
    [standard] = breaches(tower, "order_ship_standard", T0 + timedelta(hours=48) + S)
    assert standard.sample == ["oms_order:S-1"]
    assert "-customer:C-3001" in (standard.link or "").replace("%3A", ":")
    listed = tower.http.get(standard.link or "").json()["items"]
    assert [j["label"] for j in listed] == ["oms_order:S-1"]

    tower.post(order("order.delivered", T0 + timedelta(hours=30), "P-1", system="carrier"))
    assert breaches(tower, "order_ship_priority", T0 + timedelta(hours=31)) == []  # past it


def test_error_rate_per_source(tower: Tower) -> None:
    events = [
        make_event(
            source="erp.s4",
            system="erp",
            occurred_at=(T0 + timedelta(minutes=i)).isoformat(),
            status="error" if i < 2 else "ok",
            error="posting failed" if i < 2 else None,
        )
        for i in range(20)
    ]
    tower.post(*events[1:])  # 19 events, 1 error: too few to judge
    assert breaches(tower, "source_error_rate", T0 + timedelta(minutes=30)) == []
    tower.post(events[0])  # 20 events, 2 errors: 10% > 5%
    [breach] = breaches(tower, "source_error_rate", T0 + timedelta(minutes=30))
    assert breach.labels["source"] == "erp.s4"
    assert breach.value == pytest.approx(0.1)
    assert breach.summary == "erp.s4: 10% of 20 events in 1h are errors (limit 5%)"
    # an hour after the first error only 18 events remain in the window
    assert breaches(tower, "source_error_rate", T0 + timedelta(hours=1, minutes=1)) == []


def test_inventory_drift_by_size_and_age(tower: Tower) -> None:
    def position(source: str, system: str, on_hand: float) -> dict[str, Any]:
        return make_event(
            type="inventory.counted",
            object_type="inventory",
            source=source,
            system=system,
            facility="DC-EAST",
            occurred_at=T0.isoformat(),
            keys={"inventory_change": f"{source}-1", "sku": "SKU-10003"},
            attributes={"on_hand": on_hand},
        )

    tower.post(position("wms.dc-east", "wms", 10), position("erp.s4", "erp", 7))
    assert breaches(tower, "inventory_drift", T0 + timedelta(minutes=30) - S) == []
    [drift] = breaches(tower, "inventory_drift", T0 + timedelta(minutes=30) + S)
    assert drift.labels["facility"] == "DC-EAST"
    assert (drift.affected, drift.value, drift.sample) == (1, 3.0, ["SKU-10003"])


LAG_SLA = """
slas:
  - name: lag
    kind: inventory_lag
    max: 15m
    window: 1h
    min_hops: 1
  - name: coverage
    kind: coverage
    min_ratio: 0.5
    min_events: 2
  - name: queues
    kind: queue_depth
    max_depth: 100
    max_oldest_age: 10m
"""


def test_inventory_lag_p95_per_facility(tmp_path: Path) -> None:
    with running_tower(tmp_path, LAG_SLA) as tower:

        def hop(facility: str, change: str, minutes: int) -> list[dict[str, Any]]:
            common = {"object_type": "inventory", "facility": facility}
            keys = {"inventory_change": change}
            return [
                make_event(
                    type="inventory.adjusted",
                    occurred_at=T0.isoformat(),
                    system="wms",
                    keys=keys,
                    **common,
                ),
                make_event(
                    type="inventory.published",
                    system="middleware",
                    keys=keys,
                    occurred_at=(T0 + timedelta(minutes=minutes)).isoformat(),
                    **common,
                ),
            ]

        tower.post(*hop("DC-EAST", "IC-1", 20), *hop("DC-WEST", "IC-2", 14))
        published = T0 + timedelta(minutes=20)
        [lag] = [b for b in tower.evaluate(published + S).breaches if b.name == "lag"]
        assert lag.labels["facility"] == "DC-EAST"  # 14 minutes at DC-WEST is within
        assert lag.value == 1200.0
        assert "worst wms -> middleware 20m" in lag.summary
        later = published + timedelta(hours=1) + S  # the hop has left the window
        assert [b for b in tower.evaluate(later).breaches if b.name == "lag"] == []


def test_coverage_floor_and_queue_slas_wait_for_samples(tmp_path: Path) -> None:
    with running_tower(tmp_path, LAG_SLA) as tower:
        tower.post(order("order.accepted", T0, "W-1"), order("order.allocated", T0, "W-1"))
        evaluation = tower.evaluate(T0 + timedelta(minutes=5))
        [coverage] = [b for b in evaluation.breaches if b.name == "coverage"]
        assert coverage.value == 0.0  # one system only: nothing stitched across systems
        [queues] = [r for r in evaluation.results if r.name == "queues"]
        assert queues.skipped is not None and "no queue samples" in queues.skipped

        tower.post(order("order.picked", T0 + timedelta(minutes=1), "W-1", system="wms"))
        evaluation = tower.evaluate(T0 + timedelta(minutes=5))
        assert [b for b in evaluation.breaches if b.name == "coverage"] == []

        samples = [
            {
                "broker": "rabbit@mq-1",
                "queue": "orders.oms-to-erp",
                "depth": 150,
                "oldest_age_seconds": 30,
                "sampled_at": T0.isoformat(),
            },
            {
                "broker": "rabbit@mq-1",
                "queue": "inventory.wms-to-erp",
                "depth": 5,
                "oldest_age_seconds": 900,
                "sampled_at": T0.isoformat(),
            },
        ]
        tower.http.post("/api/v1/queues/samples", json=samples).raise_for_status()
        evaluation = tower.evaluate(T0 + timedelta(minutes=5))
        found = sorted(b.labels["queue"] for b in evaluation.breaches if b.name == "queues")
        assert found == ["inventory.wms-to-erp", "orders.oms-to-erp"]  # too old; too deep
