"""Pure journey rules with fixed events and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from correlator.models import ModelSet, load_models
from correlator.rules import JourneyEvent, build_journey, status_at

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def models() -> ModelSet:
    return load_models()


def ev(
    seq: int,
    minutes: float,
    type: str,
    *,
    system: str = "oms",
    source: str | None = None,
    status: str = "ok",
    via: int | None = None,
    object_type: str = "order",
    **attributes: object,
) -> JourneyEvent:
    return JourneyEvent(
        seq=seq,
        event_id=f"e{seq}",
        occurred_at=T0 + timedelta(minutes=minutes),
        source=source or f"{system}.main",
        system=system,
        type=type,
        object_type=object_type,
        status=status,
        error="period closed" if status == "error" else None,
        attributes=dict(attributes),
        via=via,
    )


HAPPY = [
    ("order.received", "oms"),
    ("order.validated", "oms"),
    ("order.accepted", "erp"),
    ("order.allocated", "erp"),
    ("order.picked", "wms"),
    ("order.packed", "wms"),
    ("shipment.shipped", "wms"),
    ("shipment.delivered", "carrier"),
    ("invoice.posted", "erp"),
]


def happy_path() -> list[JourneyEvent]:
    return [
        ev(
            i + 1,
            i * 30,
            t,
            system=s,
            object_type=t.split(".")[0],
            via=None if t.startswith("order") else 99,
        )
        for i, (t, s) in enumerate(HAPPY)
    ]


def test_the_normal_path_is_done_with_no_anomalies(models: ModelSet) -> None:
    state = build_journey(models.by_kind["order"], happy_path())

    assert state.stage == "invoiced"
    assert state.state == "done"
    assert state.anomalies == []
    assert [v.stage for v in state.history] == [
        "received",
        "validated",
        "accepted",
        "allocated",
        "picked",
        "packed",
        "shipped",
        "delivered",
        "invoiced",
    ]
    hop = state.history[2]
    assert (hop.from_stage, hop.from_system, hop.system, hop.latency_seconds) == (
        "validated",
        "oms",
        "erp",
        1800.0,
    )
    assert state.systems == ["oms", "erp", "wms", "carrier"]


def test_a_late_event_is_placed_by_when_it_happened(models: ModelSet) -> None:
    # picked (10:00) arrives before accepted (08:30): the stages still read in time order
    events = [
        ev(1, 0, "order.received"),
        ev(2, 120, "order.picked", system="wms"),
        ev(3, 30, "order.accepted", system="erp"),
        ev(4, 60, "order.allocated"),
    ]
    state = build_journey(models.by_kind["order"], events)

    assert [v.stage for v in state.history] == ["received", "accepted", "allocated", "picked"]
    assert state.stage == "picked"
    assert {a.kind for a in state.anomalies} == {"out_of_order"}
    assert [a.seq for a in state.anomalies] == [3, 4]


def test_skipped_stage_regression_duplicate_and_error(models: ModelSet) -> None:
    events = [
        ev(1, 0, "order.received"),
        ev(2, 10, "order.accepted", system="erp"),
        ev(3, 20, "order.picked", system="wms"),  # allocated skipped
        ev(4, 30, "order.picked", system="wms"),  # the same step again from the same source
        ev(5, 40, "order.validated"),  # back to a stage never reached, after picked
        ev(6, 50, "invoice.posted", system="erp", status="error", object_type="invoice", via=7),
    ]
    state = build_journey(models.by_kind["order"], events)
    kinds = [a.kind for a in state.anomalies]

    assert sorted(kinds) == ["duplicate", "error", "regression", "skipped_stage"]
    assert state.stage == "picked"  # neither the regression nor the failed posting moved it
    assert state.error_open is False  # the error came from an included invoice, not the order
    skipped = next(a for a in state.anomalies if a.kind == "skipped_stage")
    assert "without allocated" in skipped.detail


def test_the_latest_own_error_keeps_the_journey_at_risk(models: ModelSet) -> None:
    events = [ev(1, 0, "order.received"), ev(2, 5, "order.accepted", system="erp", status="error")]
    state = build_journey(models.by_kind["order"], events)
    assert state.error_open
    assert (
        status_at(
            state=state.state,
            next_due_at=state.next_due_at,
            at_risk_at=state.at_risk_at,
            error_open=True,
            now=T0,
        )
        == "at_risk"
    )


def test_stalled_after_the_next_step_is_due_and_not_before(models: ModelSet) -> None:
    state = build_journey(
        models.by_kind["order"],
        [ev(1, 0, "order.received"), ev(2, 10, "order.accepted", system="erp")],
    )
    accepted_at = T0 + timedelta(minutes=10)
    assert state.next_stage == "allocated"
    assert state.next_due_at == accepted_at + timedelta(hours=4)

    def status(now: datetime) -> str:
        return status_at(
            state=state.state,
            next_due_at=state.next_due_at,
            at_risk_at=state.at_risk_at,
            error_open=state.error_open,
            now=now,
        )

    assert status(accepted_at + timedelta(hours=2, minutes=59)) == "on_track"
    assert status(accepted_at + timedelta(hours=3)) == "at_risk"
    assert status(accepted_at + timedelta(hours=3, minutes=59, seconds=59)) == "at_risk"
    assert status(accepted_at + timedelta(hours=4)) == "stalled"


def test_cancelled_is_failed_and_expects_nothing(models: ModelSet) -> None:
    state = build_journey(
        models.by_kind["order"], [ev(1, 0, "order.received"), ev(2, 10, "order.cancelled")]
    )
    assert (state.stage, state.state, state.next_due_at) == ("cancelled", "failed", None)


def test_backorder_is_a_side_state_and_the_line_resumes(models: ModelSet) -> None:
    events = [
        ev(1, 0, "order.received"),
        ev(2, 10, "order.accepted", system="erp"),
        ev(3, 20, "order.backordered", system="erp"),
    ]
    state = build_journey(models.by_kind["order"], events)
    assert state.stage == "backordered"
    assert state.next_due_at == T0 + timedelta(minutes=20, days=7)
    resumed = build_journey(models.by_kind["order"], [*events, ev(4, 600, "order.allocated")])
    assert resumed.stage == "allocated"
    assert resumed.anomalies == []


def test_dimensions_come_from_the_object_own_events(models: ModelSet) -> None:
    events = [
        ev(1, 0, "order.received", customer="ACME", channel="web", value=1820.5, currency="USD"),
        ev(
            2,
            10,
            "shipment.shipped",
            system="wms",
            object_type="shipment",
            via=9,
            customer="SOMEONE-ELSE",
        ),
    ]
    state = build_journey(models.by_kind["order"], events)
    assert (state.customer, state.channel, state.value, state.currency) == (
        "ACME",
        "web",
        1820.5,
        "USD",
    )
