"""Detection, scaled down: a few hours of the demo estate with one of each fault through a real
tower (HTTP ingest, correlator, SLA/alert cycles on a simulated clock), judged against the
simulator's ground truth by the same code as `python -m benchmarks --only detection`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.detection import Setup, measure
from simulator.scenario import load_scenario

SCENARIO = """
name: detection-small
description: One of each fault the shipped SLAs judge, in three busy hours, plus noise.
seed: 11
backfill: 3h
volume:
  orders_per_hour: 90
  inventory_changes_per_hour: 12
  purchase_orders_per_day: 24
telemetry:
  queues: true
faults:
  - kind: warehouse_outage
    facility: DC-WEST
    start: -90m
    duration: 30m
  - kind: queue_backlog
    queue: inventory.wms-to-erp
    start: -150m
    duration: 40m
  - kind: erp_posting_error
    rate: 0.03
    retry_after: 1h
  - kind: dead_letter
    queue: inventory.erp-to-channels
    rate: 0.1
    replay_after: 90m
  - kind: inventory_drift
    facility: DC-EAST
    delta: -3
  - kind: duplicate_delivery
    rate: 0.01
  - kind: out_of_order
    rate: 0.01
    types: [order.picked, shipment.in_transit]
"""
# 20:00 UTC: all three warehouses are on shift (15:00 in New York, noon in Los Angeles, 21:00
# in Amsterdam), so a silent one is an outage, not the night.
NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
DETECTED = (
    "warehouse_outage",
    "queue_backlog",
    "erp_posting_error",
    "dead_letter",
    "inventory_drift",
)


def test_every_fault_at_stake_is_alerted_in_time_and_nothing_else_is(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    setup = Setup(
        scenario=load_scenario(path),
        backfill=timedelta(hours=3),
        now=NOW,
        step=timedelta(minutes=10),
    )
    result = measure(setup, tmp_path)

    for kind in DETECTED:
        figures = result.kinds[kind]
        assert figures.at_stake > 0, f"{kind}: nothing at stake in the scenario"
        assert figures.detected == figures.at_stake, (kind, figures.missed)
    for kind in ("duplicate_delivery", "out_of_order"):
        assert result.kinds[kind].faults > 0 and result.kinds[kind].at_stake == 0
    assert result.recall == 1.0
    assert result.episodes, "no alert fired at all"
    assert result.false_alerts == [], [(e.alertname, e.labels) for e in result.false_alerts]
