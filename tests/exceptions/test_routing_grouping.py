"""Routing rules choose the owner (first match wins); failures of one cause are one exception."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from exceptions.routing import Failure, group_key, load_routing
from tests.exceptions.support import T0, Clock, running_tower
from tests.factories import make_event
from tower.yamlfile import ConfigFileError

RULES = """\
default: {owner: integration-team, severity: low}
domains: {invoice: finance}
rules:
  - name: credit
    match: {error: 'credit (limit|hold)'}
    owner: credit-control
    category: business
    domain: finance
    severity: high
  - name: east
    match: {facility: DC-EAST}
    owner: dc-east-ops
  - name: east-credit-never-reached
    match: {facility: DC-EAST, error: credit}
    owner: nobody
"""


def test_the_first_matching_rule_wins_and_the_default_fills_gaps(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(RULES)
    rules = load_routing(path)
    credit = Failure("error_event", "erp.s4", "Credit limit exceeded", facility="DC-EAST")
    east = Failure("dead_letter", "rabbitmq:orders.in", "rejected", facility="dc-east")
    other = Failure("error_event", "edi.partner", "bad segment", object_type="invoice")

    assert rules.route(credit).model_dump() == {
        "owner": "credit-control",
        "category": "business",
        "domain": "finance",
        "severity": "high",
        "rule": "credit",
    }
    routed = rules.route(east)
    assert (routed.owner, routed.rule, routed.severity) == ("dc-east-ops", "east", "low")
    fallback = rules.route(other)
    assert (fallback.owner, fallback.rule, fallback.domain) == ("integration-team", None, "finance")


def test_a_bad_rule_fails_at_load_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(RULES.replace("'credit (limit|hold)'", "'credit (limit'"))
    with pytest.raises(ConfigFileError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(f"{path}:5: ")
    assert "not a valid regular expression" in str(caught.value)


def test_the_shipped_rules_load() -> None:
    rules = load_routing()
    assert rules.route(Failure("error_event", "edi.as2", "x")).owner == "edi-team"


def test_numbers_and_ids_in_the_error_do_not_split_a_cause() -> None:
    one = Failure("error_event", "erp.s4", "order W-1001 credit hold 4500012")
    two = Failure("error_event", "erp.s4", "order W-2002 credit hold 4500999")
    elsewhere = Failure("error_event", "erp.other", "order W-2002 credit hold 4500999")
    assert group_key(one) == group_key(two)
    assert group_key(one) != group_key(elsewhere)


def _failed(order: str, at: str, error: str = "credit hold on order {o}") -> dict[str, object]:
    return make_event(
        type="order.posting_failed",
        source="erp.s4",
        system="erp",
        facility="DC-WEST",
        occurred_at=at,
        status="error",
        error=error.format(o=order),
        keys={"oms_order": order},
    )


def test_repeated_failures_group_into_one_owned_exception_that_reopens(tmp_path: Path) -> None:
    clock = Clock(T0)
    with running_tower(tmp_path, clock) as tower:
        tower.post(
            make_event(type="order.accepted", keys={"oms_order": "W-1"}),
            _failed("W-1", "2026-11-23T07:50:00Z"),
            _failed("W-2", "2026-11-23T07:55:00Z"),
            _failed("W-3", "2026-11-23T07:58:00Z", error="warehouse timeout"),
        )
        report = tower.run(T0)
        assert (report.error_events, len(report.opened)) == (3, 2)
        tower.run(T0 + timedelta(minutes=1))  # a second run sees nothing new
        [credit] = tower.exceptions(owner="credit-control")
        assert credit["occurrences"] == 2
        assert (credit["status"], credit["domain"], credit["category"]) == (
            "open",
            "finance",
            "business",
        )
        assert credit["first_seen_at"].startswith("2026-11-23T07:50:00")
        assert len(tower.exceptions()) == 2

        # linked to both orders' journeys, and found from either
        w1 = tower.journey_of("W-1")
        detail = tower.detail(credit["exception_id"])
        assert {j["journey_id"] for j in detail["journeys"]} == {w1, tower.journey_of("W-2")}
        assert [e["exception_id"] for e in tower.exceptions(journey=w1)] == [credit["exception_id"]]
        assert tower.exceptions(journey=tower.journey_of("W-3"), owner="credit-control") == []

        eid = credit["exception_id"]
        clock.now = T0 + timedelta(minutes=30)
        acked = tower.http.post(f"/api/v1/exceptions/{eid}/ack", json={"by": "ana"}).json()
        assert acked["status"] == "acknowledged"
        again = tower.http.post(f"/api/v1/exceptions/{eid}/ack", json={"by": "ana"})
        assert again.status_code == 409
        assert "is acknowledged" in again.json()["detail"]
        tower.http.post(
            f"/api/v1/exceptions/{eid}/assign", json={"by": "ana", "assignee": "bo"}
        ).raise_for_status()
        tower.http.post(
            f"/api/v1/exceptions/{eid}/comment", json={"by": "bo", "text": "customer called"}
        ).raise_for_status()
        clock.now = T0 + timedelta(hours=2)
        resolved = tower.http.post(f"/api/v1/exceptions/{eid}/resolve", json={"by": "bo"}).json()
        assert (resolved["status"], resolved["assignee"]) == ("resolved", "bo")

        # the same cause again: the exception reopens with its count, not a new one
        tower.post(_failed("W-4", "2026-11-23T10:10:00Z"))
        report = tower.run(T0 + timedelta(hours=3))
        assert (report.opened, report.reopened) == ([], [eid])
        [reopened] = tower.exceptions(owner="credit-control")
        assert (reopened["status"], reopened["occurrences"]) == ("open", 3)
        history = tower.detail(eid)["history"]
        assert [h["action"] for h in history] == [
            "opened",
            "acknowledged",
            "assign",
            "comment",
            "resolved",
            "reopened",
        ]
        assert history[3]["detail"] == {"text": "customer called"}
        assert history[3]["actor"] == "bo"

        kpis = tower.http.get(
            "/api/v1/exceptions/kpis", params={"since": "2026-11-23T07:00:00Z"}
        ).json()
        finance = next(d for d in kpis["domains"] if d["domain"] == "finance")
        assert finance["occurrences"] == 3
        assert finance["ack_seconds"] == pytest.approx(40 * 60)  # first seen 07:50, ack 08:30

        # bad requests: a clear error naming the item and the reason
        missing = tower.http.post("/api/v1/exceptions/99/ack", json={"by": "ana"})
        assert (missing.status_code, missing.json()["detail"]) == (
            404,
            "exception 99 does not exist",
        )
        nameless = tower.http.post(f"/api/v1/exceptions/{eid}/comment", json={"text": "hi"})
        assert nameless.status_code == 422
        assert nameless.json()["detail"].startswith("by:")
        bad = tower.http.get("/api/v1/exceptions", params={"status": "closed"})
        assert bad.status_code == 422
        nothing = tower.http.post(f"/api/v1/exceptions/{eid}/replay", json={"by": "ana"})
        assert (nothing.status_code, nothing.json()["detail"]) == (
            409,
            f"exception {eid} has no dead letters to replay, and no replay action of the "
            "routing rules matches it",
        )
