"""Stitching through the real API into a real DuckDB file, then reading journeys back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from correlator.jobs import run_once
from correlator.models import load_models
from tests.factories import make_event
from tests.servers import ThreadServer
from tower.settings import Settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Tower:
    """A running tower whose correlator the test drives, with a clock the test sets."""

    def __init__(self, server: ThreadServer, http: httpx.Client) -> None:
        self.server = server
        self.http = http
        self.models = load_models()
        self.now = NOW

    def post(self, *events: dict[str, Any]) -> None:
        answer = self.http.post("/api/v1/events", json=list(events)).json()
        assert answer["rejected"] == [], answer

    def correlate(self) -> None:
        run_once(store=self.server.app.state.store, models=self.models)

    def search(self, q: str) -> list[dict[str, Any]]:
        response = self.http.get("/api/v1/journeys/search", params={"q": q})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def one(self, q: str) -> dict[str, Any]:
        [found] = self.search(q)
        return self.http.get(f"/api/v1/journeys/{found['journey_id']}").json()


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Tower]:
    settings = Settings(db_path=tmp_path / "t.duckdb", correlate_every=timedelta(hours=1))
    holder: dict[str, Tower] = {}
    with (
        ThreadServer(settings, clock=lambda: holder["t"].now if holder else NOW) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        holder["t"] = Tower(server, http)
        yield holder["t"]


def at(hours: float) -> str:
    return (NOW - timedelta(hours=10) + timedelta(hours=hours)).isoformat()


def order_event(
    type: str, hours: float, keys: dict[str, str], system: str = "oms", **extra: Any
) -> dict[str, Any]:
    return make_event(
        type=type, occurred_at=at(hours), keys=keys, system=system, source=f"{system}.main", **extra
    )


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_aliases_arriving_in_any_order_make_one_journey(
    tower: Tower, order: tuple[int, ...]
) -> None:
    events = [
        order_event("order.received", 0, {"oms_order": "W-1001"}),
        order_event(
            "order.accepted", 1, {"oms_order": "W-1001", "erp_sales_order": "4500012"}, system="erp"
        ),
        order_event(
            "order.picked", 2, {"wms_order": "P-77", "erp_sales_order": "4500012"}, system="wms"
        ),
    ]
    for index in order:  # one request and one correlator run each: merges happen across runs
        tower.post(events[index])
        tower.correlate()

    for any_id in ("W-1001", "4500012", "P-77", "oms_order:W-1001"):
        journeys = tower.search(any_id)
        assert len(journeys) == 1, any_id
    journey = tower.one("W-1001")
    assert journey["stage"] == "picked"
    assert journey["keys"] == {
        "erp_sales_order": ["4500012"],
        "oms_order": ["W-1001"],
        "wms_order": ["P-77"],
    }
    assert [e["type"] for e in journey["events"]] == [
        "order.received",
        "order.accepted",
        "order.picked",
    ]
    assert journey["systems"] == ["oms", "erp", "wms"]
    total = tower.http.get("/api/v1/journeys", params={"kind": "order"}).json()["items"]
    assert len(total) == 1


def test_a_shipment_with_two_orders_keeps_them_apart(tower: Tower) -> None:
    tower.post(
        order_event("order.accepted", 0, {"oms_order": "W-1", "erp_sales_order": "451"}),
        order_event("order.accepted", 0, {"oms_order": "W-2", "erp_sales_order": "452"}),
        make_event(
            type="shipment.shipped",
            object_type="shipment",
            occurred_at=at(3),
            keys={"wms_shipment": "SH-77", "carrier_tracking": "1Z999"},
            related=[
                {"object_type": "order", "keys": {"erp_sales_order": "451"}},
                {"object_type": "order", "keys": {"erp_sales_order": "452"}},
            ],
        ),
        make_event(
            type="shipment.delivered",
            object_type="shipment",
            occurred_at=at(8),
            system="carrier",
            keys={"carrier_tracking": "1Z999"},
        ),
    )
    tower.correlate()

    w1, w2 = tower.one("W-1"), tower.one("W-2")
    assert w1["journey_id"] != w2["journey_id"]
    assert (w1["stage"], w2["stage"]) == ("delivered", "delivered")  # via the shipment
    assert {e["type"] for e in w1["events"]} == {
        "order.accepted",
        "shipment.shipped",
        "shipment.delivered",
    }
    assert "452" not in str(w1["keys"])
    # the shipment's and the carrier's IDs find both orders (and the shipment itself)
    by_tracking = tower.search("1Z999")
    assert sorted(j["label"] for j in by_tracking) == [
        "oms_order:W-1",
        "oms_order:W-2",
        "wms_shipment:SH-77",
    ]
    assert [j["label"] for j in tower.search("kind:order SH-77")] == [
        "oms_order:W-2",
        "oms_order:W-1",
    ]
    assert [(n["relation"], n["kind"]) for n in w1["related"]] == [("referenced_by", "shipment")]


def test_a_late_event_reorders_the_stages(tower: Tower) -> None:
    tower.post(
        order_event("order.received", 0, {"oms_order": "W-5"}),
        order_event("order.allocated", 2, {"oms_order": "W-5"}, system="erp"),
    )
    tower.correlate()
    assert "skipped_stage" in tower.one("W-5")["anomaly_kinds"]

    tower.post(order_event("order.accepted", 1, {"oms_order": "W-5"}, system="erp"))
    tower.correlate()
    journey = tower.one("W-5")
    assert [h["stage"] for h in journey["history"]] == ["received", "accepted", "allocated"]
    assert journey["anomaly_kinds"] == ["out_of_order"]


def test_rerunning_the_job_changes_nothing(tower: Tower) -> None:
    tower.post(
        order_event("order.received", 0, {"oms_order": "W-9"}),
        order_event("order.accepted", 1, {"oms_order": "W-9", "erp_sales_order": "9"}),
    )
    tower.correlate()
    store = tower.server.app.state.store
    snapshot = store.query("SELECT * EXCLUDE (updated_seq) FROM journeys ORDER BY 1", doing="t")
    identity = store.query("SELECT * FROM identity ORDER BY ALL", doing="t")

    report = run_once(store=store, models=tower.models)

    assert report.events == 0
    assert (
        store.query("SELECT * EXCLUDE (updated_seq) FROM journeys ORDER BY 1", doing="t")
        == snapshot
    )
    assert store.query("SELECT * FROM identity ORDER BY ALL", doing="t") == identity


def test_stalled_status_follows_the_clock(tower: Tower) -> None:
    tower.post(order_event("order.accepted", 0, {"oms_order": "W-3"}, system="erp"))
    tower.correlate()
    accepted = NOW - timedelta(hours=10)

    tower.now = accepted + timedelta(hours=3, minutes=59)
    assert tower.one("W-3")["status"] == "at_risk"
    assert tower.search("status:stalled") == []
    tower.now = accepted + timedelta(hours=4, seconds=1)
    journey = tower.one("W-3")
    assert journey["status"] == "stalled"
    assert journey["anomalies"][-1]["kind"] == "missing_next"
    assert [j["label"] for j in tower.search("status:stalled")] == ["oms_order:W-3"]


def test_search_syntax(tower: Tower) -> None:
    tower.post(
        order_event(
            "order.accepted",
            0,
            {"oms_order": "W-10"},
            facility="DC-EAST",
            attributes={"customer": "ACME"},
        ),
        order_event(
            "order.accepted",
            0,
            {"oms_order": "W-11"},
            facility="DC-EAST",
            attributes={"customer": "Globex"},
        ),
        order_event(
            "order.accepted",
            0,
            {"oms_order": "W-12"},
            facility="DC-WEST",
            attributes={"customer": "ACME"},
        ),
    )
    tower.correlate()

    def labels(q: str) -> list[str]:
        return sorted(j["label"].split(":")[1] for j in tower.search(q))

    assert labels("facility:DC-EAST") == ["W-10", "W-11"]
    assert labels("facility:DC-EAST -customer:ACME") == ["W-11"]
    assert labels("customer:ACME OR customer:Globex") == ["W-10", "W-11", "W-12"]
    assert labels("W-1*") == ["W-10", "W-11", "W-12"]
    assert labels("W-1* -W-11") == ["W-10", "W-12"]
    assert labels("facility:dc-* customer:acme") == ["W-10", "W-12"]
    assert labels("nothing-like-this") == []
    bad = tower.http.get("/api/v1/journeys/search", params={"q": "status:late"})
    assert bad.status_code == 400
    assert "status: one of" in bad.json()["detail"]
    assert tower.http.get("/api/v1/journeys/search", params={"q": "a OR"}).status_code == 400


def test_journey_list_pages_with_a_cursor(tower: Tower) -> None:
    tower.post(*[order_event("order.received", i / 10, {"oms_order": f"P-{i}"}) for i in range(25)])
    tower.correlate()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 10, "sort": "started_at", "order": "asc"}
        if cursor:
            params["cursor"] = cursor
        page = tower.http.get("/api/v1/journeys", params=params).json()
        seen += [j["label"] for j in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"oms_order:P-{i}" for i in range(25)]
    assert tower.http.get("/api/v1/journeys/999999").status_code == 404


def test_coverage_counts_multi_system_and_unlinked_events(tower: Tower) -> None:
    tower.post(
        order_event("order.received", 0, {"oms_order": "C-1"}),
        order_event("order.accepted", 1, {"oms_order": "C-1"}, system="erp"),
        order_event("order.received", 0, {"oms_order": "C-2"}),
        make_event(
            type="inventory.adjusted",
            object_type="inventory",
            occurred_at=at(1),
            keys={"sku": "SKU-1", "facility": "DC-EAST"},
        ),  # only dimensions: unlinked
    )
    tower.correlate()
    coverage = tower.http.get("/api/v1/correlation/coverage").json()
    assert coverage["events"] == 4
    assert coverage["unlinked"] == 1
    assert coverage["coverage"] == 0.5
    [unlinked] = tower.http.get("/api/v1/correlation/unlinked").json()["items"]
    assert (unlinked["type"], unlinked["keys"]) == (
        "inventory.adjusted",
        {"sku": "SKU-1", "facility": "DC-EAST"},
    )


def inventory_event(
    type: str,
    minutes: float,
    change: str,
    system: str,
    source: str,
    on_hand: float | None = None,
    sku: str = "SKU-1",
    facility: str = "DC-EAST",
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"quantity": -2}
    if on_hand is not None:
        attributes["on_hand"] = on_hand
    return make_event(
        type=type,
        object_type="inventory",
        system=system,
        source=source,
        facility=facility,
        occurred_at=(NOW - timedelta(hours=1) + timedelta(minutes=minutes)).isoformat(),
        keys={"inventory_change": change, "sku": sku},
        attributes=attributes,
    )


def test_inventory_hop_lag_per_facility_and_system_pair(tower: Tower) -> None:
    # five changes at DC-EAST: WMS -> middleware after 1..5 min, middleware -> ERP after 10 min
    for n in range(1, 6):
        tower.post(
            inventory_event("inventory.adjusted", 0, f"ADJ-{n}", "wms", "wms.dc-east"),
            inventory_event("inventory.published", n, f"ADJ-{n}", "middleware", "mw.rabbitmq"),
            inventory_event("inventory.posted", n + 10, f"ADJ-{n}", "erp", "erp.s4"),
        )
    tower.post(
        inventory_event("inventory.adjusted", 0, "ADJ-W", "wms", "wms.dc-west", facility="DC-WEST"),
        inventory_event(
            "inventory.published", 30, "ADJ-W", "middleware", "mw.rabbitmq", facility="DC-WEST"
        ),
    )
    tower.correlate()

    hops = tower.http.get("/api/v1/inventory/lag").json()["hops"]
    east = [
        (h["from_system"], h["to_system"], h["hops"], h["p50_seconds"], h["max_seconds"])
        for h in hops
        if h["facility"] == "DC-EAST"
    ]
    assert east == [("wms", "middleware", 5, 180.0, 300.0), ("middleware", "erp", 5, 600.0, 600.0)]
    p95 = next(
        h["p95_seconds"]
        for h in hops
        if h["to_system"] == "middleware" and h["facility"] == "DC-EAST"
    )
    assert p95 == pytest.approx(288.0)  # linear interpolation between 240 and 300
    west = tower.http.get("/api/v1/inventory/lag", params={"facility": "DC-WEST"}).json()["hops"]
    assert [(h["to_system"], h["p50_seconds"]) for h in west] == [("middleware", 1800.0)]
    # each change is its own journey even though all share SKU-1 (sku is a dimension)
    assert len(tower.search("kind:inventory")) == 6


def test_inventory_drift_between_wms_erp_and_a_channel(tower: Tower) -> None:
    tower.post(
        inventory_event("inventory.adjusted", 0, "A-1", "wms", "wms.dc-east", on_hand=120),
        inventory_event("inventory.adjusted", 5, "A-2", "wms", "wms.dc-east", on_hand=118),
        inventory_event("inventory.posted", 10, "A-1", "erp", "erp.s4", on_hand=120),
        inventory_event(
            "inventory.channel_published", 20, "A-1", "channel", "channel.web", on_hand=120
        ),
        # SKU-2 agrees everywhere
        inventory_event(
            "inventory.adjusted", 0, "B-1", "wms", "wms.dc-east", on_hand=7, sku="SKU-2"
        ),
        inventory_event("inventory.posted", 3, "B-1", "erp", "erp.s4", on_hand=7, sku="SKU-2"),
    )
    tower.correlate()

    [drift] = tower.http.get("/api/v1/inventory/drift").json()["items"]
    assert (drift["sku"], drift["facility"], drift["drift"]) == ("SKU-1", "DC-EAST", 2.0)
    assert {p["source"]: p["on_hand"] for p in drift["positions"]} == {
        "wms.dc-east": 118.0,
        "erp.s4": 120.0,
        "channel.web": 120.0,
    }
    assert drift["age_seconds"] == 40 * 60  # since the channel's report at NOW - 40 min

    # the ERP catches up (and an older, out-of-order report does not win): SKU-1 agrees again
    tower.post(
        inventory_event("inventory.posted", 30, "A-2", "erp", "erp.s4", on_hand=118),
        inventory_event(
            "inventory.channel_published", 31, "A-2", "channel", "channel.web", on_hand=118
        ),
        inventory_event("inventory.posted", 1, "A-0", "erp", "erp.s4", on_hand=99),
    )
    tower.correlate()
    assert tower.http.get("/api/v1/inventory/drift").json()["items"] == []
