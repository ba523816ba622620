"""queries.py against a real tower: events in through the API, the correlator's own job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from correlator.models import load_models
from correlator.search import SearchSyntaxError
from dashboards import actions, queries
from dashboards.links import href, search_query
from tests.dashboards import oncall_data
from tests.dashboards.conftest import Tower
from tests.dashboards.data import LAGS, NOW, STALLED_USD
from tests.sla.support import Tower as CycleTower

HOUR = timedelta(hours=1)
ORDER_LINE = next(m for m in load_models() if m.kind == "order").stages


def labels(rows: list[dict[str, object]]) -> list[object]:
    return [row["label"] for row in rows]


def test_risk_summary_counts_open_orders_and_value_by_status(crafted: Tower) -> None:
    summary = queries.risk_summary(store=crafted.store, now=NOW)

    assert summary["open"] == 4
    assert summary["on_track"]["journeys"] == 1
    assert summary["at_risk"] == {"journeys": 1, "amounts": [{"currency": "EUR", "value": 900.0}]}
    assert summary["stalled"] == {
        "journeys": 2,
        "amounts": [{"currency": "USD", "value": STALLED_USD}],
    }
    # the same figure the journeys API gives
    stalled = crafted.api("/api/v1/journeys", kind="order", status="stalled")["items"]
    assert len(stalled) == summary["stalled"]["journeys"]


def test_risk_breakdown_by_every_dimension(crafted: Tower) -> None:
    breakdown = queries.risk_breakdown(store=crafted.store, now=NOW)

    def table(dimension: str) -> dict[str, tuple[int, int]]:
        return {r["key"]: (r["at_risk"], r["stalled"]) for r in breakdown[dimension]}

    assert table("facility") == {"DC-EAST": (0, 2), "DC-EU": (1, 0)}
    assert table("customer") == {"ACME": (0, 2), "GLOBEX": (1, 0)}
    assert table("channel") == {"web": (0, 2), "edi": (1, 0)}
    assert table("stage") == {"accepted": (1, 2)}
    [east] = [r for r in breakdown["facility"] if r["key"] == "DC-EAST"]
    assert east["amounts"] == [{"currency": "USD", "value": STALLED_USD}]


def test_top_stalled_is_by_value_and_each_links_to_its_trace(crafted: Tower) -> None:
    rows = queries.top_stalled(store=crafted.store, now=NOW)
    assert labels(rows) == ["oms_order:W-1001", "oms_order:W-1003"]
    for row in rows:  # the label is a search that finds exactly that journey
        found = queries.search(store=crafted.store, q=str(row["label"]), now=NOW)
        assert [f["journey_id"] for f in found] == [row["journey_id"]]


def test_a_drill_down_query_finds_exactly_the_journeys_behind_a_number(crafted: Tower) -> None:
    q = search_query(kind="order", status="stalled", facility="DC-EAST")
    assert q == "kind:order status:stalled facility:DC-EAST"
    found = queries.search(store=crafted.store, q=q, now=NOW)
    assert sorted(labels(found)) == ["oms_order:W-1001", "oms_order:W-1003"]
    # values with spaces are quoted; an empty key means "has none"
    assert search_query(customer="ACME Retail") == "'customer:ACME Retail'"
    assert search_query(kind="order", facility="") == "kind:order -facility:*"
    assert queries.search(store=crafted.store, q="kind:order -facility:*", now=NOW) == []
    assert href("/ui/", "trace", q="a b", j=None) == "/ui/trace?q=a+b"


def test_exception_trend_counts_orders_with_an_exception(crafted: Tower) -> None:
    rows = queries.exception_trend(store=crafted.store, now=NOW, since=NOW - 24 * HOUR, bucket=HOUR)
    assert sum(r["journeys"] for r in rows) == 5
    assert sum(r["exceptions"] for r in rows) == 2  # the two stalled orders (one had an error)
    assert [r["bucket"] for r in rows] == sorted(r["bucket"] for r in rows)


def test_an_invoice_number_finds_the_order_it_bills(crafted: Tower) -> None:
    found = queries.search(store=crafted.store, q="INV-9001", now=NOW)
    assert "oms_order:W-1004" in labels(found)
    [order] = [r for r in found if r["kind"] == "order"]
    journey = queries.journey(store=crafted.store, journey_id=order["journey_id"], now=NOW)
    assert journey is not None
    assert journey["systems"] == ["oms", "erp", "wms", "carrier"]
    assert [h["stage"] for h in journey["history"]][-1] == "invoiced"
    with pytest.raises(SearchSyntaxError):
        queries.search(store=crafted.store, q="status:bogus", now=NOW)


def test_hop_lag_over_time_buckets_each_hop(crafted: Tower) -> None:
    rows = queries.hop_lag_over_time(
        store=crafted.store, now=NOW, since=NOW - 6 * HOUR, bucket=HOUR
    )
    seen = {(r["from_system"], r["to_system"], r["bucket"].hour): r["p50_seconds"] for r in rows}
    expected = {
        (hop[0], hop[1], hour): lags[index]
        for hop, lags in LAGS.items()
        for index, hour in enumerate((10, 11))
    }
    assert seen == expected
    assert {r["facility"] for r in rows} == {"DC-EAST"}
    assert (
        queries.hop_lag_over_time(
            store=crafted.store, now=NOW, since=NOW - 6 * HOUR, bucket=HOUR, facility="DC-EU"
        )
        == []
    )


def test_hop_lag_and_drift_for_the_facility_page(crafted: Tower) -> None:
    lag = queries.hop_lag(store=crafted.store, since=NOW - 24 * HOUR)
    by_hop = {(r["from_system"], r["to_system"]): r for r in lag}
    assert by_hop[("middleware", "erp")]["p50_seconds"] == pytest.approx(840.0)
    assert by_hop[("middleware", "erp")]["max_seconds"] == 1200.0
    [drift] = queries.drift(store=crafted.store, now=NOW)
    assert (drift["sku"], drift["facility"], drift["drift"]) == ("SKU-1", "DC-EAST", 4.0)


def test_process_map_hops_funnel_and_variants(crafted: Tower) -> None:
    cohort = {"store": crafted.store, "now": NOW, "since": NOW - 7 * 24 * HOUR, "kind": "order"}
    hops = {(r["from_stage"], r["to_stage"]): r for r in queries.process_hops(**cohort)}
    assert hops[("received", "accepted")]["journeys"] == 4
    # 10, 15, 20 and 30 minutes: the median is 17.5 minutes
    assert hops[("received", "accepted")]["p50_seconds"] == pytest.approx(1050.0)
    assert hops[("received", "accepted")]["systems"] == "oms -> erp"
    assert hops[("accepted", "allocated")]["systems"] == "erp -> wms"

    main_line = [stage.name for stage in ORDER_LINE]
    funnel = queries.process_funnel(**cohort, main_line=main_line)
    assert [(r["stage"], r["journeys"]) for r in funnel] == [
        ("received", 5),
        ("accepted", 4),
        ("allocated", 1),
        ("picked", 1),
        ("packed", 1),
        ("shipped", 1),
        ("delivered", 1),
        ("invoiced", 1),
    ]
    unordered = queries.process_funnel(**cohort)  # no model: the stages in their usual order
    assert [r["stage"] for r in unordered][:2] == ["received", "accepted"]

    paths = queries.variants(**cohort)
    assert (paths[0]["path"], paths[0]["journeys"]) == ("received > accepted", 3)
    assert paths[0]["share"] == pytest.approx(0.6)
    only_west = queries.process_hops(**cohort, facility="DC-WEST", channel="marketplace")
    assert {(r["from_stage"], r["journeys"]) for r in only_west if r["to_stage"] == "accepted"} == {
        ("received", 1)
    }


def test_filter_values_come_from_the_data(crafted: Tower) -> None:
    found = queries.dimensions(store=crafted.store)
    assert {"order", "inventory", "shipment", "invoice"} <= set(found["kind"])
    assert found["facility"] == ["DC-EAST", "DC-EU", "DC-WEST"]
    assert found["channel"] == ["edi", "marketplace", "web"]


def test_the_demo_estate_agrees_with_the_journeys_api(estate: Tower) -> None:
    summary = queries.risk_summary(store=estate.store, now=NOW)
    for status in ("at_risk", "stalled"):
        listed = estate.api("/api/v1/journeys", kind="order", status=status, limit=500)["items"]
        assert summary[status]["journeys"] == len(listed) > 0
    breakdown = queries.risk_breakdown(store=estate.store, now=NOW, limit=100)
    for dimension in ("stage", "facility", "channel"):
        total = sum(r["at_risk"] + r["stalled"] for r in breakdown[dimension])
        assert total == summary["at_risk"]["journeys"] + summary["stalled"]["journeys"]
    lag = queries.hop_lag(store=estate.store, since=NOW - 24 * HOUR)
    assert {r["facility"] for r in lag} == {"DC-EAST", "DC-WEST", "DC-EU"}


# -- on-call ---------------------------------------------------------------------------------


def test_open_alerts_are_the_alerts_apis_firing_and_pending(oncall: CycleTower) -> None:
    alerts = queries.open_alerts(store=oncall.store, now=oncall_data.FIRED)
    api = oncall.http.get("/api/v1/alerts", params={"state": ["firing", "pending"]}).json()
    assert [a["fingerprint"] for a in alerts] == [a["fingerprint"] for a in api["items"]]
    stalled = [a for a in alerts if a["alertname"] == "orders_stalled_in_allocation"]
    assert sorted(a["labels"]["facility"] for a in stalled) == ["DC-EAST", "DC-WEST"]
    assert {a["state"] for a in stalled} == {"firing"}
    assert all(a["state"] in ("firing", "pending") for a in alerts)


def test_slo_status_has_budget_and_burn_per_window(oncall: CycleTower) -> None:
    slos = queries.slo_status(store=oncall.store)
    api = oncall.http.get("/api/v1/slo").json()["items"]
    assert [s["name"] for s in slos] == sorted(s["name"] for s in api)
    events_ok = next(s for s in slos if s["name"] == "events_ok")
    assert events_ok["objective"] == 0.995
    assert events_ok["windows"] and {"long", "short", "factor", "long_burn"} <= set(
        events_ok["windows"][0]
    )
    # 9 events in the period, 2 of them errors: 2/9 bad against a 0.5% budget
    assert events_ok["events"] == 9
    assert events_ok["budget_remaining"] == pytest.approx(1 - (2 / 9) / 0.005)


def test_queue_latest_takes_each_queues_newest_sample(oncall: CycleTower) -> None:
    rows = queries.queue_latest(store=oncall.store)
    assert [(r["queue"], r["depth"], r["oldest_age_seconds"], r["dead_letter"]) for r in rows] == [
        ("orders.in", 1250, 900.0, False),
        ("invoices.dlq", 3, None, True),
    ]


def test_error_rates_by_source_in_the_last_hour(oncall: CycleTower) -> None:
    now = oncall_data.FIRED
    rows = queries.error_rates(store=oncall.store, now=now, since=now - HOUR)
    assert [(r["source"], r["events"], r["errors"], r["error_rate"]) for r in rows] == [
        (source, events, errors, errors / events)
        for source, (events, errors) in oncall_data.ERRORS.items()
    ]
    assert queries.error_rates(store=oncall.store, now=now - 3 * HOUR, since=now - 4 * HOUR) == []


def test_recent_rejects_are_the_collectors_newest_first(oncall: CycleTower) -> None:
    [reject] = queries.recent_rejects(store=oncall.store)
    assert "type" in reject["reason"]
    assert "oncall-refused" in reject["raw"]


@pytest.mark.parametrize(
    ("by", "duration", "message"),
    [("", "1h", "Type your name"), ("  ", "1h", "Type your name"), ("ann", "1y", "one of 1h")],
)
def test_actions_refuse_without_a_name_or_a_known_duration(
    oncall: CycleTower, by: str, duration: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        actions.silence(store=oncall.store, labels={"a": "b"}, by=by, duration=duration, now=NOW)
    if duration == "1h":
        with pytest.raises(ValueError, match=message):
            actions.ack(store=oncall.store, fingerprint="x", by=by, now=NOW)
