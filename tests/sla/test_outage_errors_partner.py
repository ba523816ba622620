"""The shipped facility outage, journeys-in-error and per-partner acknowledgement SLAs on a real
tower, the clock on both sides of each line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from sla.rules import Breach
from tests.factories import make_event
from tests.sla.support import T0, Tower, running_tower

S = timedelta(seconds=1)


@pytest.fixture(scope="module")
def tower(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tower]:
    with running_tower(tmp_path_factory.mktemp("tower")) as running:
        yield running


def breaches(tower: Tower, name: str, at: datetime) -> list[Breach]:
    return [b for b in tower.evaluate(at).breaches if b.name == name]


def wms(facility: str, at: datetime, n: int) -> dict[str, Any]:
    return make_event(
        type="order.picked",
        occurred_at=at.isoformat(),
        source=f"wms.{facility.lower()}",
        system="wms",
        facility=facility,
        keys={"wms_order": f"{facility}-{n}"},
    )


def test_a_busy_warehouse_that_goes_silent_is_an_outage_a_quiet_one_is_not(tower: Tower) -> None:
    busy = [wms("DC-WEST", T0 - timedelta(minutes=60 - i), i) for i in range(60)]
    quiet = [wms("DC-EU", T0 - timedelta(minutes=60 - 6 * i), i) for i in range(10)]
    tower.post(*busy, *quiet)
    last = T0 - timedelta(minutes=1)

    assert breaches(tower, "facility_outage", last + timedelta(minutes=10)) == []
    [outage] = breaches(tower, "facility_outage", last + timedelta(minutes=10) + S)
    assert outage.labels["facility"] == "DC-WEST"  # DC-EU sent 10 events: not judged
    assert (outage.labels["role"], outage.severity) == ("outage", "critical")
    assert outage.summary.startswith("DC-WEST has reported nothing for 10m 1s (wms.dc-west;")
    assert "60 events in the 1h before" in outage.summary

    tower.post(wms("DC-WEST", last + timedelta(minutes=12), 99))
    assert breaches(tower, "facility_outage", last + timedelta(minutes=13)) == []


def test_an_order_whose_posting_failed_is_in_error_until_it_is_retried(tower: Tower) -> None:
    keys = {"oms_order": "E-1", "erp_sales_order": "4500099"}
    failed = make_event(
        type="order.accepted",
        occurred_at=T0.isoformat(),
        source="erp.s4",
        system="erp",
        keys=keys,
        status="error",
        error="Sales order not created: credit limit exceeded",
        attributes={"value": 250.0, "currency": "USD"},
    )
    tower.post(failed)

    assert breaches(tower, "orders_in_error", T0 + timedelta(minutes=15) - S) == []
    [stuck] = breaches(tower, "orders_in_error", T0 + timedelta(minutes=15) + S)
    assert stuck.sample == ["oms_order:E-1"]
    assert stuck.summary.startswith("1 orders worth $250 in error at DC-EAST for > 15m")
    assert "anomaly%3Aerror" in (stuck.link or "")

    retried = {**failed, "event_id": "retry-1", "status": "ok", "error": None}
    retried["occurred_at"] = (T0 + timedelta(minutes=45)).isoformat()
    tower.post({k: v for k, v in retried.items() if v is not None})
    assert breaches(tower, "orders_in_error", T0 + timedelta(hours=1)) == []


def test_acknowledgements_are_judged_per_partner(tower: Tower) -> None:
    def po(type: str, at: datetime, number: str, partner: str) -> dict[str, Any]:
        return make_event(
            type=type,
            occurred_at=at.isoformat(),
            source="edi.gateway",
            system="edi",
            facility=None,
            object_type="purchase_order",
            keys={"po_number": number},
            attributes={"partner": partner},
        )

    tower.post(
        po("edi.850.sent", T0, "PO-1", "UMBRELLA"),
        po("edi.850.sent", T0, "PO-2", "UMBRELLA"),
        po("edi.850.sent", T0, "PO-3", "INITECH"),
        po("edi.855.received", T0 + timedelta(hours=1), "PO-3", "INITECH"),
        po("edi.850.sent", T0 + timedelta(hours=1), "PO-4", "STARKBV"),
    )

    assert breaches(tower, "po_acknowledged", T0 + timedelta(hours=4) - S) == []
    [late] = breaches(tower, "po_acknowledged", T0 + timedelta(hours=4) + S)
    assert (late.labels["partner"], late.affected) == ("UMBRELLA", 2)
    assert late.summary.startswith(
        "2 purchase orders sent but not acknowledged within 4h for UMBRELLA"
    )
    later = breaches(tower, "po_acknowledged", T0 + timedelta(hours=5) + S)
    assert sorted((b.labels["partner"], b.affected) for b in later) == [
        ("STARKBV", 1),
        ("UMBRELLA", 2),
    ]
