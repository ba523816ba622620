"""Error events, collector rejects and fired SLA alerts the tower holds become exceptions."""

from __future__ import annotations

from pathlib import Path

from exceptions.jobs import ExceptionsConfig
from exceptions.jobs import run_once as run_exceptions
from tests.dashboards import oncall_data
from tests.factories import make_event
from tests.sla.support import running_tower


def test_rejects_alerts_and_error_events_each_become_owned_exceptions(tmp_path: Path) -> None:
    with running_tower(tmp_path) as tower:
        tower.post(*oncall_data.events())
        for n in (1, 2):  # refused twice for one cause: one exception, two occurrences
            bad = make_event(event_id=f"naive-{n}", occurred_at="2026-11-23T09:15:00",
                             keys={"oms_order": "W-1"})  # fmt: skip
            assert len(tower.http.post("/api/v1/events", json=[bad]).json()["rejected"]) == 1
        tower.cycle(oncall_data.BREACHED)
        tower.cycle(oncall_data.FIRED)
        config: ExceptionsConfig = tower.server.app.state.exceptions

        fired = [a for a in tower.http.get("/api/v1/alerts").json()["items"] if a["starts_at"]]
        assert fired, "the on-call data fires alerts"
        report = run_exceptions(store=tower.store, config=config, now=oncall_data.FIRED)
        assert (report.rejects, report.alerts, report.error_events) == (2, len(fired), 2)
        again = run_exceptions(store=tower.store, config=config, now=oncall_data.FIRED)
        assert (again.rejects, again.alerts, again.opened) == (0, 0, [])

        def items(**params: str) -> list[dict[str, object]]:
            found: list[dict[str, object]] = tower.http.get(
                "/api/v1/exceptions", params=params
            ).json()["items"]
            return found

        [naive] = [e for e in items(origin="reject") if "time zone" in str(e["error"])]
        assert naive["occurrences"] == 2
        journey = tower.http.get("/api/v1/journeys/search", params={"q": "W-1"}).json()["items"]
        assert naive in items(journey=str(journey[0]["journey_id"]))

        # every fired alert episode is an exception of its SLA (the SLAs are another package's)
        alerts = items(origin="alert")
        assert {(e["place"], e["facility"]) for e in alerts} == {
            (a["alertname"], a["labels"].get("facility")) for a in fired
        }
        assert sum(int(str(e["occurrences"])) for e in alerts) == len(fired)
        assert all(e["source"] == f"sla:{e['place']}" for e in alerts)

        [edi] = items(origin="error_event", owner="edi-team")
        assert (edi["source"], edi["domain"]) == ("edi.as2", "partner")
