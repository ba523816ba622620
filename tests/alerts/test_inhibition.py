"""Inhibition: the pure rule (Alertmanager's semantics) and a real tower with a fixed clock.

On the tower, a facility's outage alert mutes that facility's stage alerts (a real local HTTP
receiver never gets them) while another facility's are sent; once the outage resolves, the
muted alerts are notified.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from alerts.inhibition import inhibited_by
from alerts.lifecycle import fingerprint
from alerts.models import AlertingConfig, AlertRecord, InhibitRule, State
from tests.sla.support import T0, Receiver, Tower, order, running_tower

T = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OUTAGE_RULE = InhibitRule(
    source_matchers=['alertname="facility_outage"'],
    target_matchers=['role="stage"'],
    equal=["facility"],
)


def alert(alertname: str, state: State = "firing", **labels: str) -> AlertRecord:
    full = {"alertname": alertname, **labels}
    return AlertRecord(
        fingerprint=fingerprint(full),
        alertname=alertname,
        labels=full,
        annotations={},
        state=state,
        active_at=T,
        last_seen_at=T,
        summary=alertname,
        updated_at=T,
    )


def test_a_firing_source_mutes_targets_with_equal_labels_only() -> None:
    outage = alert("facility_outage", facility="DC-EAST", role="outage")
    east = alert("stalled", facility="DC-EAST", role="stage")
    west = alert("stalled", facility="DC-WEST", role="stage")
    other = alert("drift", facility="DC-EAST", role="inventory")
    found = inhibited_by([outage, east, west, other], [OUTAGE_RULE])
    assert found == {east.fingerprint: [outage.fingerprint]}

    quiet_states: tuple[State, ...] = ("pending", "resolved", "inactive")
    for state in quiet_states:
        quiet = alert("facility_outage", state, facility="DC-EAST", role="outage")
        assert inhibited_by([quiet, east], [OUTAGE_RULE]) == {}
    assert inhibited_by([outage, east], []) == {}


def test_targets_of_any_state_are_marked_and_absent_labels_are_equal_when_empty() -> None:
    outage = alert("facility_outage")  # no facility label: matches targets without one
    pending = alert("stalled", "pending", role="stage")
    elsewhere = alert("stalled", facility="DC-WEST", role="stage")
    found = inhibited_by([outage, pending, elsewhere], [OUTAGE_RULE])
    assert found == {pending.fingerprint: [outage.fingerprint]}


def test_an_alert_never_inhibits_itself_nor_a_two_sided_match() -> None:
    rule = InhibitRule(
        source_matchers=['severity="critical"'], target_matchers=['severity=~"critical|warning"']
    )
    first = alert("a", severity="critical")
    second = alert("b", severity="critical")
    warning = alert("c", severity="warning")
    found = inhibited_by([first, second, warning], [rule])
    assert found == {warning.fingerprint: sorted([first.fingerprint, second.fingerprint])}


def test_rules_load_from_the_alerting_file_and_reject_bad_matchers() -> None:
    config = AlertingConfig.model_validate(
        {
            "inhibit_rules": [
                {
                    "source_matchers": ['alertname="facility_outage"'],
                    "target_matchers": ['role=~"stage|flow"'],
                    "equal": ["facility"],
                }
            ]
        }
    )
    assert config.inhibit_rules[0].parsed_targets()[0].op == "=~"
    # Shipped: a facility's outage (role: outage in sla/defaults.yaml) mutes its stage alerts.
    [default] = AlertingConfig().inhibit_rules
    assert (default.source_matchers, default.target_matchers, default.equal) == (
        ['role="outage"'],
        ['role="stage"'],
        ["facility"],
    )
    assert AlertingConfig.model_validate({"inhibit_rules": []}).inhibit_rules == []
    for bad in (
        {"source_matchers": ["facility=~("], "target_matchers": ["role=stage"]},
        {"source_matchers": [], "target_matchers": ["role=stage"]},
        {"source_matchers": ["a=b"], "target_matchers": ["role=stage"], "equal": ["no-dash"]},
        {"source_matchers": ["a=b"], "target_matchers": ["c=d"], "source_match": {"a": "b"}},
    ):
        with pytest.raises(ValidationError):
            AlertingConfig.model_validate({"inhibit_rules": [bad]})


# An outage alert of the user's own making (nothing leaves acceptance at a facility for 1h),
# and the stage alert it should mute marked role=stage.
SLAS = """
slas:
  - name: facility_outage
    kind: stalled_in_stage
    stage: accepted
    no_progress_for: 1h
    severity: critical
    labels: {role: outage}
  - name: orders_stalled_in_allocation
    kind: stalled_in_stage
    stage: allocated
    no_progress_for: 2h
    severity: critical
    for: 5m
    labels: {role: stage}
"""
ALLOCATED = T0 + timedelta(minutes=10)
OUTAGE = T0 + timedelta(hours=1, seconds=1)
BREACHED = ALLOCATED + timedelta(hours=2, seconds=1)
FIRED = BREACHED + timedelta(minutes=5)


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Tower]:
    with running_tower(tmp_path, SLAS) as running:
        events = [
            order("order.accepted", T0, "W-1", facility="DC-EAST"),
            order("order.allocated", ALLOCATED, "W-1", facility="DC-EAST"),
            order("order.accepted", T0, "W-3", facility="DC-WEST"),
            order("order.allocated", ALLOCATED, "W-3", facility="DC-WEST"),
            order("order.accepted", T0, "W-4", facility="DC-EAST"),  # never allocated: outage
        ]
        running.post(*events)
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def sent(receiver: Receiver) -> list[tuple[str, str, str]]:
    """(alertname, facility, status) of every alert the receiver got, in order."""
    return [
        (a["labels"]["alertname"], a["labels"].get("facility", ""), a["status"])
        for message in receiver.bodies
        for a in message["alerts"]
    ]


def alerts(tower: Tower, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tower.http.get("/api/v1/alerts", params=params).json()["items"]
    return items


def test_a_facility_outage_mutes_its_stage_alerts_until_it_resolves(
    tower: Tower, receiver: Receiver
) -> None:
    config = AlertingConfig.model_validate(
        {
            "route": {
                "receiver": "oncall",
                "group_by": ["alertname", "facility"],
                "group_wait": "30s",
                "group_interval": "5m",
            },
            "receivers": [{"name": "oncall", "webhook_configs": [{"url": receiver.url}]}],
            "inhibit_rules": [
                {
                    "source_matchers": ['alertname="facility_outage"'],
                    "target_matchers": ['role="stage"'],
                    "equal": ["facility"],
                }
            ],
        }
    )
    # what `tower serve` would run with; the API reads the rules from here
    tower.server.app.state.alerting = config

    tower.cycle(OUTAGE - timedelta(seconds=2), config)
    assert alerts(tower, state="firing") == []
    tower.cycle(OUTAGE, config)
    [outage] = alerts(tower, state="firing")
    assert (outage["alertname"], outage["labels"]["facility"]) == ("facility_outage", "DC-EAST")
    tower.cycle(OUTAGE + timedelta(seconds=30), config)
    assert sent(receiver) == [("facility_outage", "DC-EAST", "firing")]

    tower.cycle(BREACHED, config)
    tower.cycle(FIRED, config)
    stage = alerts(tower, state="firing", alertname="orders_stalled_in_allocation")
    assert sorted(a["labels"]["facility"] for a in stage) == ["DC-EAST", "DC-WEST"]
    [muted] = alerts(tower, inhibited=True)
    assert (muted["labels"]["facility"], muted["state"]) == ("DC-EAST", "firing")
    assert muted["inhibited_by"] == [outage["fingerprint"]]
    assert muted["silenced_by"] == []
    free = alerts(tower, inhibited=False)
    assert {(a["alertname"], a["labels"]["facility"]) for a in free} == {
        ("facility_outage", "DC-EAST"),
        ("orders_stalled_in_allocation", "DC-WEST"),
    }

    for seconds in (30, 60, 90):  # past group_wait: only DC-WEST's stage alert is sent
        tower.cycle(FIRED + timedelta(seconds=seconds), config)
    assert sent(receiver) == [
        ("facility_outage", "DC-EAST", "firing"),
        ("orders_stalled_in_allocation", "DC-WEST", "firing"),
    ]
    history = tower.http.get(
        "/api/v1/alerts/history", params={"fingerprint": muted["fingerprint"]}
    ).json()["items"]
    assert {h["to_state"] for h in history} == {"pending", "firing"}  # its lifecycle is kept
    [why] = [h for h in history if h["event"] == "muted"]  # and why it was never sent
    assert f"inhibited by {outage['fingerprint']}" in why["detail"]

    # DC-EAST allocates again: the outage resolves and the muted stage alert is notified
    back = FIRED + timedelta(minutes=2)
    tower.post(order("order.allocated", back, "W-4", facility="DC-EAST"))
    tower.cycle(back, config)
    assert alerts(tower, inhibited=True) == []
    latest = tower.http.get(
        "/api/v1/alerts/history", params={"fingerprint": muted["fingerprint"]}
    ).json()["items"][0]
    assert latest["event"] == "unmuted"
    tower.cycle(back + timedelta(seconds=30), config)
    assert ("orders_stalled_in_allocation", "DC-EAST", "firing") in sent(receiver)
    tower.cycle(back + timedelta(minutes=5), config)
    assert sent(receiver).count(("orders_stalled_in_allocation", "DC-EAST", "firing")) == 1
    assert ("facility_outage", "DC-EAST", "resolved") in sent(receiver)
