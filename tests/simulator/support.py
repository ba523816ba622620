"""Shared pieces for the simulator's tests: a fixed "now", small scenarios, stream helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from simulator import RunOptions, Scenario, items
from simulator.records import Emission, FaultRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

SMALL_VOLUME = {
    "orders_per_hour": 20,
    "inventory_changes_per_hour": 4,
    "purchase_orders_per_day": 30,
    "return_rate": 0.05,
}

# Every kind of fault, at rates high enough that a day of a small estate shows each of them.
EVERY_FAULT: list[dict[str, Any]] = [
    {"kind": "warehouse_outage", "name": "west-down", "facility": "DC-WEST", "start": "-10h",
     "duration": "3h"},
    {"kind": "queue_backlog", "name": "inv-backlog", "queue": "inventory.wms-to-erp",
     "start": "-8h", "duration": "2h"},
    {"kind": "erp_posting_error", "name": "erp-retried", "rate": 0.08, "retry_after": "30m"},
    {"kind": "erp_posting_error", "name": "erp-stuck", "rate": 0.05, "types": ["order.accepted"],
     "retry_after": None},
    {"kind": "dead_letter", "name": "dlq", "queue": "inventory.wms-to-erp", "rate": 0.15,
     "replay_after": "1h"},
    {"kind": "lost_message", "name": "lost", "rate": 0.02},
    {"kind": "duplicate_delivery", "name": "dupes", "rate": 0.02},
    {"kind": "out_of_order", "name": "reorder", "rate": 0.03},
    {"kind": "slow_acknowledgement", "name": "slow-855", "delay": "6h"},
    {"kind": "clock_skew", "name": "eu-skew", "facility": "DC-EU", "offset": "-5m"},
    {"kind": "inventory_drift", "name": "east-drift", "facility": "DC-EAST", "delta": 4},
]  # fmt: skip


def scenario_data(
    name: str = "test",
    *,
    faults: list[dict[str, Any]] | None = None,
    backfill: str = "1d",
    **volume: float,
) -> dict[str, Any]:
    return {
        "name": name,
        "seed": 42,
        "backfill": backfill,
        "volume": {**SMALL_VOLUME, **volume},
        "faults": faults or [],
    }


def write_scenario(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def options_for(data: dict[str, Any], **overrides: Any) -> RunOptions:
    scenario = Scenario.model_validate(data)
    fields: dict[str, Any] = {
        "scenario": scenario,
        "seed": scenario.seed,
        "backfill": scenario.backfill,
        "live": False,
        "now": NOW,
    }
    return RunOptions(**{**fields, **overrides})


def split(options: RunOptions, *, now: datetime = NOW) -> tuple[list[Emission], list[FaultRecord]]:
    """The run's events and fault records, in delivery order (spans and log lines left out)."""
    events: list[Emission] = []
    faults: list[FaultRecord] = []
    for item in items(options=options, now=now):
        if isinstance(item, FaultRecord):
            faults.append(item)
        elif isinstance(item, Emission):
            events.append(item)
    return events, faults


HOUR = timedelta(hours=1)
