"""The whole cycle on a real tower: breaches -> alerts -> one grouped webhook -> a real receiver.

The webhook message is checked against Alertmanager's own version-4 examples
(../shared/vectors/alertmanager, read in place).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.models import AlertingConfig
from tests.sla.support import T0, Receiver, Tower, order, running_tower

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "alertmanager"
ALLOCATED = T0 + timedelta(minutes=10)
BREACHED = ALLOCATED + timedelta(hours=2, seconds=1)  # orders_stalled_in_allocation: 2h
S = timedelta(seconds=1)


def parse_time(text: str) -> datetime:
    """RFC 3339 with any number of fractional digits (Go writes nanoseconds)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(text)


def check_v4(message: dict[str, Any]) -> None:
    """What a receiver of Alertmanager's version-4 webhook may rely on; raises on violation."""
    assert message["version"] == "4"
    assert isinstance(message.get("groupKey", ""), str)
    assert message["status"] in ("firing", "resolved")
    assert isinstance(message.get("receiver", ""), str)
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        assert isinstance(message.get(key, {}), dict)
    assert isinstance(message["alerts"], list) and message["alerts"]
    for alert in message["alerts"]:
        assert isinstance(alert["labels"]["alertname"], str)
        assert all(isinstance(v, str) for v in alert["labels"].values())
        assert all(isinstance(v, str) for v in alert.get("annotations", {}).values())
        assert alert.get("status", message["status"]) in ("firing", "resolved")
        parse_time(alert["startsAt"])
        parse_time(alert["endsAt"])


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    if not VECTORS.is_dir():
        pytest.skip(f"Alertmanager test vectors not found at {VECTORS} (../shared is absent)")
    return {p.name: json.loads(p.read_text()) for p in VECTORS.glob("*.json")}


def test_the_checker_agrees_with_alertmanagers_examples(vectors: dict[str, Any]) -> None:
    for name, message in vectors.items():
        if name.startswith("v4-"):
            check_v4(message)
        else:  # legacy versions and the must-reject example
            with pytest.raises((AssertionError, KeyError)):
                check_v4(message)


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Tower]:
    with running_tower(tmp_path) as running:
        running.post(
            *[
                event
                for order_id, facility in (
                    ("W-1", "DC-EAST"),
                    ("W-2", "DC-EAST"),
                    ("W-3", "DC-WEST"),
                )
                for event in (
                    order(
                        "order.accepted",
                        T0,
                        order_id,
                        facility=facility,
                        value=900.0,
                        currency="USD",
                    ),
                    order("order.allocated", ALLOCATED, order_id, facility=facility),
                )
            ]
        )
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def webhook_config(url: str) -> AlertingConfig:
    return AlertingConfig.model_validate(
        {
            "external_url": "http://tower.example:8000",
            "route": {
                "receiver": "oncall",
                "group_by": ["alertname"],
                "group_wait": "30s",
                "group_interval": "5m",
                "routes": [{"matchers": ["alertname!=orders_stalled_in_allocation"]}],
            },
            "receivers": [{"name": "oncall", "webhook_configs": [{"url": url}]}],
            "delivery": {"first_retry": "10s"},
        }
    )


def test_alerts_fire_after_for_group_into_one_webhook_and_survive_a_failing_receiver(
    tower: Tower, receiver: Receiver, vectors: dict[str, Any]
) -> None:
    config = webhook_config(receiver.url)
    tower.cycle(BREACHED, config)
    alerts = tower.http.get("/api/v1/alerts").json()["items"]
    stalled = [a for a in alerts if a["alertname"] == "orders_stalled_in_allocation"]
    assert sorted(a["state"] for a in stalled) == ["pending", "pending"]  # for: 5m

    tower.cycle(BREACHED + timedelta(minutes=5) - S, config)
    assert len(tower.http.get("/api/v1/alerts", params={"state": "firing"}).json()["items"]) == 0
    fired = BREACHED + timedelta(minutes=5)
    tower.cycle(fired, config)
    firing = tower.http.get(
        "/api/v1/alerts", params={"state": "firing", "alertname": "orders_stalled_in_allocation"}
    ).json()["items"]
    assert len(firing) == 2
    east = tower.http.get(
        "/api/v1/alerts", params={"state": "firing", "filter": "facility=DC-EAST"}
    ).json()["items"]
    [summary] = [a["summary"] for a in east]
    assert summary.startswith("2 orders worth $1.8k stalled in allocated at DC-EAST for > 2h")
    assert receiver.bodies == []  # group_wait

    receiver.fail_next = 1
    report = tower.cycle(fired + timedelta(seconds=30), config)
    assert (report.notifications, report.delivered, report.failed_attempts) == (1, 0, 1)
    [waiting] = tower.http.get("/api/v1/alerts/notifications").json()["items"]
    assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
    assert "500" in waiting["last_error"]
    report = tower.cycle(fired + timedelta(seconds=39), config)  # backoff 10s: not yet
    assert report.delivered == 0 and receiver.bodies == []
    report = tower.cycle(fired + timedelta(seconds=40), config)
    assert report.delivered == 1

    [message] = receiver.bodies
    check_v4(message)
    richest = vectors["v4-resolved-prom2teams-with_common_items.json"]
    assert set(richest) <= set(message)
    assert set(richest["alerts"][0]) <= set(message["alerts"][0])
    assert message["truncatedAlerts"] == 0
    assert message["groupKey"] == '{}:{alertname="orders_stalled_in_allocation"}'
    assert message["groupLabels"] == {"alertname": "orders_stalled_in_allocation"}
    assert message["commonLabels"]["team"] == "fulfilment"
    assert sorted(a["labels"]["facility"] for a in message["alerts"]) == ["DC-EAST", "DC-WEST"]
    assert all(a["endsAt"] == "0001-01-01T00:00:00Z" for a in message["alerts"])
    link = next(a for a in message["alerts"] if a["labels"]["facility"] == "DC-EAST")[
        "annotations"
    ]["link"]
    found = tower.http.get(link).json()["items"]
    assert sorted(j["label"] for j in found) == ["oms_order:W-1", "oms_order:W-2"]

    # nothing changes for the rest of the group interval and beyond: no second message
    for minutes in (1, 5, 10, 60):
        tower.cycle(fired + timedelta(seconds=40, minutes=minutes), config)
    assert len(receiver.bodies) == 1

    # DC-EAST's orders move on: its alert resolves and the group says so once
    moved = fired + timedelta(hours=1, minutes=5)
    tower.post(
        order("order.picked", moved, "W-1", system="wms"),
        order("order.picked", moved, "W-2", system="wms"),
    )
    tower.cycle(moved, config)
    tower.cycle(moved + timedelta(minutes=5), config)
    assert len(receiver.bodies) == 2
    update = receiver.bodies[1]
    check_v4(update)
    statuses = sorted((a["labels"]["facility"], a["status"]) for a in update["alerts"])
    assert statuses == [("DC-EAST", "resolved"), ("DC-WEST", "firing")]

    history = tower.http.get("/api/v1/alerts/history").json()["items"]
    kinds = {(h["event"], h["to_state"]) for h in history}
    assert {("state", "pending"), ("state", "firing"), ("state", "resolved")} <= kinds
    assert ("notification", None) in kinds


def test_ack_records_who_and_silences_mute(tower: Tower, receiver: Receiver) -> None:
    config = webhook_config(receiver.url)
    tower.cycle(BREACHED, config)
    fired = BREACHED + timedelta(minutes=5)
    tower.cycle(fired, config)
    [west] = tower.http.get(
        "/api/v1/alerts", params={"state": "firing", "filter": "facility=DC-WEST"}
    ).json()["items"]

    missing = tower.http.post("/api/v1/alerts/0000000000000000/ack", json={"by": "ana"})
    assert missing.status_code == 404
    acked = tower.http.post(
        f"/api/v1/alerts/{west['fingerprint']}/ack",
        json={"by": "ana", "owner": "dc-west-shift", "comment": "calling the DC"},
    )
    assert acked.status_code == 200, acked.text
    [west] = tower.http.get(
        "/api/v1/alerts", params={"filter": "facility=DC-WEST", "state": "firing"}
    ).json()["items"]
    assert (west["acked_by"], west["owner"]) == ("ana", "dc-west-shift")
    history = tower.http.get(
        "/api/v1/alerts/history", params={"fingerprint": west["fingerprint"]}
    ).json()["items"]
    assert history[0]["event"] == "ack" and "ana" in history[0]["detail"]

    bad = tower.http.post(
        "/api/v1/silences",
        json={
            "matchers": [{"name": "facility", "op": "=~", "value": "("}],
            "ends_at": "2027-01-01T00:00:00Z",
            "created_by": "ana",
        },
    )
    assert bad.status_code == 422
    created = tower.http.post(
        "/api/v1/silences",
        json={
            "matchers": [
                {"name": "alertname", "value": "orders_stalled_in_allocation"},
                {"name": "facility", "op": "=~", "value": "DC-.*"},
            ],
            "ends_at": (fired + timedelta(hours=2)).isoformat(),
            "created_by": "ana",
            "comment": "stocktake",
        },
    )
    assert created.status_code == 201, created.text
    silence_id = created.json()["silence_id"]
    silenced = tower.http.get("/api/v1/alerts", params={"silenced": True}).json()["items"]
    assert len(silenced) == 2

    tower.cycle(fired + timedelta(minutes=1), config)
    assert receiver.bodies == []  # muted: the group never forms
    muted = tower.http.get(
        "/api/v1/alerts/history", params={"fingerprint": west["fingerprint"]}
    ).json()["items"][0]
    assert (muted["event"], muted["to_state"]) == ("muted", "firing")
    assert f"silenced by {silence_id}" in muted["detail"]

    assert tower.http.delete(f"/api/v1/silences/{silence_id}").status_code == 204
    [listed] = tower.http.get("/api/v1/silences").json()["items"]
    assert listed["state"] == "expired"
    assert tower.http.delete(f"/api/v1/silences/{silence_id}").status_code == 404
    tower.cycle(fired + timedelta(minutes=2), config)
    unmuted = tower.http.get(
        "/api/v1/alerts/history", params={"fingerprint": west["fingerprint"]}
    ).json()["items"][0]
    assert (unmuted["event"], unmuted["happened_at"][:19]) == (
        "unmuted",
        (fired + timedelta(minutes=2)).isoformat()[:19],
    )
    tower.cycle(fired + timedelta(minutes=2, seconds=30), config)
    [message] = receiver.bodies
    assert len(message["alerts"]) == 2


def test_sla_state_and_slo_api(tower: Tower) -> None:
    tower.cycle(BREACHED)
    items = {i["name"]: i for i in tower.http.get("/api/v1/sla").json()["items"]}
    assert items["orders_stalled_in_allocation"]["breaching"] is True
    assert items["orders_stalled_in_allocation"]["definition"]["no_progress_for"] == "2h"
    assert items["queue_backlog"]["skipped"].startswith("no queue samples")
    assert items["order_ship_priority"]["breaching"] is False
    slos = {i["name"]: i for i in tower.http.get("/api/v1/slo").json()["items"]}
    assert slos["events_ok"]["status"]["objective"] == 0.995
