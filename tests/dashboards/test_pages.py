"""Every page in a real headless Chromium against a real tower: what a person sees and clicks.

Waits are playwright's own (a locator waits until its element shows what is expected); no
test sleeps or times anything.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from dashboards import Ui, queries
from tests.dashboards import oncall_data
from tests.dashboards.conftest import Tower
from tests.dashboards.data import NOW
from tests.sla.support import Tower as CycleTower

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def open_page(page: Any, tower: Tower, path: str, updated: str) -> None:
    page.goto(f"{tower.url}/ui/{path}")
    # wait_for_selector follows the DOM as it changes (expect's retries come at intervals)
    page.wait_for_selector(f"#{updated}-updated:has-text('updated')")
    expect(page.locator(f"#{updated}-updated")).to_have_text("updated 12:00:00 UTC")


# -- executive -------------------------------------------------------------------------------


def test_executive_shows_the_orders_and_money_at_risk(page: Any, crafted: Tower) -> None:
    open_page(page, crafted, "", "exec")
    stalled = crafted.api("/api/v1/journeys", kind="order", status="stalled")["items"]
    expect(page.locator("#kpi-stalled .kpi-value")).to_have_text(str(len(stalled)))
    expect(page.locator("#kpi-stalled .kpi-sub")).to_have_text("USD 2,070")
    expect(page.locator("#kpi-at-risk .kpi-value")).to_have_text("1")
    expect(page.locator("#kpi-open .kpi-value")).to_have_text("4")
    expect(page.locator("#exec-stalled-rows tbody tr")).to_have_count(2)
    expect(page.locator("#exec-stalled-rows tbody tr").first).to_contain_text("W-1001")
    expect(page.locator("#exec-by-facility .main-svg").first).to_be_visible()


def test_a_number_drills_down_to_the_journeys_behind_it(page: Any, crafted: Tower) -> None:
    open_page(page, crafted, "", "exec")
    row = page.locator("#exec-rows-facility tbody tr", has_text="DC-EAST")
    row.locator("a.drill.stalled").click()

    page.wait_for_url("**/ui/trace?q=*")
    assert query_of(page.url)["q"] == ["kind:order status:stalled facility:DC-EAST"]
    results = page.locator("#trace-results tbody tr")
    expect(results).to_have_count(2)
    expect(page.locator("#trace-results")).to_contain_text("W-1001")
    expect(page.locator("#trace-results")).to_contain_text("W-1003")
    expect(page.locator("#trace-q")).to_have_value("kind:order status:stalled facility:DC-EAST")


def test_a_bar_drills_down_too(page: Any, crafted: Tower) -> None:
    open_page(page, crafted, "", "exec")
    # the stalled bar of the "web" channel (the chart's top row); plotly listens on its drag
    # layer, so click where the bar is drawn, as a person would
    bar = page.locator("#exec-by-channel .trace.bars").first.locator(".point path").last
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/ui/trace?q=*")
    assert query_of(page.url)["q"] == ["kind:order status:stalled channel:web"]
    expect(page.locator("#trace-updated")).to_have_text("updated 12:00:00 UTC")


def test_the_trend_period_is_kept_in_the_url(page: Any, crafted: Tower) -> None:
    open_page(page, crafted, "", "exec")
    page.locator("#exec-period").click()
    page.get_by_role("option", name="7d").click()
    page.wait_for_url("**period=7d")
    page.reload()
    expect(page.locator("#exec-period")).to_contain_text("7d")


# -- trace search ----------------------------------------------------------------------------


def test_typing_an_id_shows_the_journey_swimlane(page: Any, crafted: Tower) -> None:
    open_page(page, crafted, "trace", "trace")
    expect(page.locator("#trace-body")).to_contain_text("Type any ID")
    page.locator("#trace-q").fill("4500012")
    page.locator("#trace-q").press("Enter")

    page.wait_for_url("**q=4500012")
    expect(page.locator("#trace-journey h2")).to_contain_text("oms_order:W-1001")
    expect(page.locator("#trace-journey h2 .badge")).to_have_text("stalled")
    lanes = page.locator("#trace-swimlane .ytick text")
    expect(lanes).to_have_text(["erp", "oms"])  # one lane per system, the first on top
    expect(page.locator("#trace-anomalies")).to_contain_text("missing_next")
    expect(page.locator("#trace-events tbody tr")).to_have_count(2)


def test_an_erp_invoice_number_opens_the_order_it_bills(page: Any, crafted: Tower) -> None:
    page.goto(f"{crafted.url}/ui/trace?q=INV-9001")
    expect(page.locator("#trace-journey h2")).to_contain_text("oms_order:W-1004")
    expect(page.locator("#trace-results tr.selected")).to_contain_text("W-1004")
    expect(page.locator("#trace-stages tbody tr")).to_have_count(8)
    expect(page.locator("#trace-swimlane .ytick text")).to_have_count(4)

    page.locator("#trace-related a", has_text="wms_shipment:SH-77").click()  # a neighbour
    page.wait_for_url("**q=wms_shipment%3ASH-77&j=*")
    expect(page.locator("#trace-journey h2")).to_contain_text("wms_shipment:SH-77")


def test_a_deep_link_and_a_bad_query(page: Any, crafted: Tower) -> None:
    page.goto(f"{crafted.url}/ui/trace?q=W-1003")
    expect(page.locator("#trace-journey h2")).to_contain_text("oms_order:W-1003")
    expect(page.locator("#trace-events tr.error")).to_contain_text("posting period closed")

    page.locator("#trace-q").fill("status:bogus")
    page.locator("#trace-go").click()
    expect(page.locator("#trace-body .notice-error")).to_contain_text("status: one of")
    page.locator("#trace-q").fill("NO-SUCH-ID")
    page.locator("#trace-q").press("Enter")
    expect(page.locator("#trace-body .notice")).to_contain_text("Nothing found for NO-SUCH-ID")


# -- facilities and process map --------------------------------------------------------------


def test_facilities_show_lag_drift_and_local_time(page: Any, crafted: Tower) -> None:
    open_page(page, crafted, "facilities", "fac")
    expect(page.locator("#fac-clocks")).to_contain_text("DC-EAST07:00America/New_York · EST")
    lag = page.locator("#fac-lag-rows tbody tr", has_text="middleware -> erp")
    expect(lag.locator("td").nth(4)).to_have_text("14m")  # p50 of 8 and 20 minutes
    expect(page.locator("#fac-drift-rows tbody tr")).to_have_count(1)
    expect(page.locator("#fac-drift-rows")).to_contain_text("SKU-1")

    page.locator("#fac-facility").click()
    page.get_by_role("option", name="DC-EU").click()
    page.wait_for_url("**facility=DC-EU**")
    expect(page.locator("#fac-lag .notice")).to_contain_text("No inventory hops")
    expect(page.locator("#fac-clocks")).to_have_text("DC-EU13:00Europe/Amsterdam · CET")


def test_process_map_filters_change_the_url_and_the_figures(page: Any, estate: Tower) -> None:
    open_page(page, estate, "process", "proc")
    since = NOW - queries.period("7d")[0]
    everything = queries.process_hops(store=estate.store, now=NOW, since=since, kind="order")
    rows = page.locator("#proc-hop-rows tbody tr")
    expect(rows).to_have_count(len(everything))
    expect(page.locator("#proc-map .sankey").first).to_be_attached()
    expect(page.locator("#proc-funnel .main-svg").first).to_be_visible()

    page.locator("#proc-facility").click()
    page.get_by_role("option", name="DC-EU").click()
    page.wait_for_url("**facility=DC-EU**")
    eu = queries.process_hops(
        store=estate.store, now=NOW, since=since, kind="order", facility="DC-EU"
    )
    assert len(eu) != len(everything) or eu[0]["journeys"] != everything[0]["journeys"]
    first = page.locator("#proc-hop-rows tbody tr").first.locator("td")
    expect(first.nth(2)).to_have_text(str(eu[0]["journeys"]))
    expect(first.nth(0)).to_have_text(eu[0]["from_stage"])
    expect(rows).to_have_count(len(eu))


@pytest.mark.parametrize(
    ("path", "prefix"),
    [
        ("", "exec"),
        ("trace?q=status:stalled", "trace"),
        ("facilities", "fac"),
        ("process", "proc"),
        ("oncall", "oncall"),
    ],
)
def test_every_page_renders_the_demo_estate(
    page: Any, estate: Tower, path: str, prefix: str
) -> None:
    open_page(page, estate, path, prefix)
    expect(page.locator(".notice-error")).to_have_count(0)
    expect(page.locator(".topbar nav a.active")).to_have_count(1)
    # the page console stayed clean: the `page` fixture fails the test otherwise


# -- on-call ---------------------------------------------------------------------------------


def open_oncall(page: Any, tower: CycleTower) -> None:
    page.goto(f"{tower.server.url}/ui/oncall")
    page.wait_for_selector("#oncall-updated:has-text('updated')")
    expect(page.locator("#oncall-updated")).to_have_text(f"updated {tower.now:%H:%M:%S} UTC")


def stalled_row(page: Any, facility: str) -> Any:
    return page.locator("#oncall-alert-rows tbody tr", has_text=f"facility={facility}").filter(
        has_text="orders_stalled_in_allocation"
    )


def test_oncall_shows_what_fires_burns_backs_up_and_is_refused(
    page: Any, oncall: CycleTower
) -> None:
    open_oncall(page, oncall)
    expect(stalled_row(page, "DC-WEST").locator(".badge")).to_contain_text("firing")
    expect(page.locator("#oncall-queue-rows tbody tr").first).to_contain_text("orders.in")
    expect(page.locator("#oncall-queue-rows tbody tr").first.locator("td").nth(2)).to_have_text(
        "1250"
    )
    expect(page.locator("#oncall-slo-rows")).to_contain_text("events_ok")
    expect(page.locator("#oncall-burn .main-svg").first).to_be_visible()
    expect(page.locator("#oncall-errors .ytick text")).to_have_text(["wms.main", "edi.as2"])
    expect(page.locator("#oncall-reject-rows tbody tr")).to_have_count(1)


def test_oncall_ack_is_recorded_in_the_alerts_api(page: Any, oncall: CycleTower) -> None:
    open_oncall(page, oncall)
    row = stalled_row(page, "DC-EAST")
    expect(row.locator(".badge")).to_contain_text("firing")

    row.get_by_role("button", name="Ack").click()  # no name yet: told what to do
    expect(page.locator("#oncall-action .notice-error")).to_contain_text("Type your name")

    page.locator("#oncall-who").fill("dana")
    row.get_by_role("button", name="Ack").click()
    expect(page.locator("#oncall-action")).to_contain_text("Acknowledged by dana")
    expect(row.locator("td").nth(5)).to_contain_text("dana at")

    [east] = oncall.http.get(
        "/api/v1/alerts",
        params={
            "state": "firing",
            "alertname": "orders_stalled_in_allocation",
            "filter": "facility=DC-EAST",
        },
    ).json()["items"]
    assert (east["acked_by"], east["owner"]) == ("dana", "dana")


def test_oncall_silence_mutes_the_alerts_labels(page: Any, oncall: CycleTower) -> None:
    open_oncall(page, oncall)
    row = stalled_row(page, "DC-WEST")
    page.locator("#oncall-who").fill("sam")
    page.locator("#oncall-duration").click()
    page.get_by_role("option", name="4h", exact=True).click()
    row.get_by_role("button", name="Silence").click()
    expect(page.locator("#oncall-action")).to_contain_text("Silenced orders_stalled_in_allocation")
    expect(row.locator(".badge")).to_have_text("firing (silenced)")

    [silence] = oncall.http.get("/api/v1/silences").json()["items"]
    assert silence["created_by"] == "sam" and silence["state"] == "active"
    assert {"name": "facility", "op": "=", "value": "DC-WEST"} in silence["matchers"]
    ends_at = datetime.fromisoformat(silence["ends_at"].replace("Z", "+00:00"))
    assert ends_at == oncall_data.FIRED + timedelta(hours=4)


# -- the mount -------------------------------------------------------------------------------


def test_the_mount_redirects_and_answers_503_until_opened(crafted: Tower) -> None:
    response = httpx.get(f"{crafted.url}/ui", follow_redirects=False)
    assert response.status_code in (307, 308) and response.headers["location"].endswith("/ui/")
    assert httpx.get(f"{crafted.url}/ui/_dash-layout").status_code == 200

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    with ThreadPoolExecutor(1) as pool:  # playwright's loop runs in this thread
        pool.submit(asyncio.run, Ui()({"type": "http", "path": "/ui/"}, receive, send)).result()
    assert sent[0]["status"] == 503
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        Ui(zones={"DC-MARS": "Mars/Olympus"})
