"""The Exceptions page in a real headless Chromium: the inbox by owner, ack, take, replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.exceptions.support import T0, Clock, running_tower
from tests.exceptions.test_dead_letters_live import (
    declare,
    orders,
    publish,
    reject_all,
    take,
    tower_settings,
)
from tests.queues.broker import RabbitMq

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


def test_ack_take_and_replay_from_the_page(rabbitmq: RabbitMq, page: Any, tmp_path: Path) -> None:
    declare(rabbitmq, "t11p")
    for n, order in enumerate(("W-11", "W-12"), start=1):
        publish(rabbitmq, n, order, "t11p")
    reject_all(rabbitmq, 2, "t11p")
    settings = tower_settings(rabbitmq, tmp_path, "t11p")
    with running_tower(tmp_path, Clock(T0), **settings) as tower:
        orders(tower)
        tower.run(T0)
        [exc] = tower.exceptions(origin="dead_letter")
        eid = exc["exception_id"]

        page.goto(f"{tower.server.url}/ui/exceptions")
        owner = page.locator("#exc-owner-order-integration")
        expect(owner.locator("h3")).to_have_text("order-integration (1)")
        expect(page.locator("#exc-dlq-rows tbody tr")).to_contain_text("t11p.orders.dlq")
        expect(page.locator("#exc-dlq-rows tbody tr td").nth(2)).to_have_text("2")
        row = owner.locator(f"tr.exc-row-{eid}")
        expect(row).to_contain_text("open")

        row.locator("button.ack").click()  # no name yet: refused, nothing changes
        expect(page.locator("#exc-action")).to_contain_text("Type your name first")
        page.locator("#exc-who").fill("ana")
        row.locator("button.ack").click()
        expect(page.locator("#exc-action")).to_contain_text(f"Exception {eid} acknowledged by ana")
        expect(row).to_contain_text("acknowledged")
        row.locator("button.take").click()
        expect(row.locator("td").nth(6)).to_have_text("ana")

        row.locator("button.view").click()
        detail = page.locator(f"#exc-detail-{eid}")
        expect(detail.locator("#exc-journeys tbody tr")).to_have_count(2)
        expect(detail.locator("#exc-letters tbody tr")).to_have_count(2)
        expect(detail.locator("#exc-letters")).to_contain_text('"order_id":"W-11"')

        detail.locator("button.replay").click()
        confirm = page.locator("button.confirm")
        expect(confirm).to_have_text("Confirm replay of 2 message(s)")
        assert take(rabbitmq, "t11p.orders.in", "ack_requeue_true") == []  # not yet
        confirm.click()
        expect(page.locator("#exc-action")).to_contain_text(
            f"Replayed 2 message(s) of exception {eid}"
        )
        expect(page.locator(f"#exc-detail-{eid} dl")).to_contain_text("replayed")
        expect(page.locator("#exc-history")).to_contain_text("replayed")
        received = take(rabbitmq, "t11p.orders.in", "ack_requeue_false")
        assert sorted(m["properties"]["message_id"] for m in received) == ["m-1", "m-2"]
        expect(page.locator("#exc-replay-rate")).to_contain_text("Replay success: 100%")
