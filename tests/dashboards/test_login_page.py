"""Signing in to the dashboards in a real headless Chromium, with access control on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.servers import ThreadServer, keyed_settings

ADMIN_KEY = "browser-login-admin-key-0123456789ab"


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[ThreadServer]:
    settings = keyed_settings(tmp_path / "tower.duckdb", ADMIN_KEY)
    with ThreadServer(settings) as running:
        made = httpx.post(
            f"{running.url}/api/v1/users",
            json={"username": "lead", "role": "viewer", "password": "warehouse lead 42"},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        assert made.status_code == 201, made.text
        yield running


def test_a_visitor_signs_in_and_lands_on_the_page_they_asked_for(
    page: Any, guarded: ThreadServer
) -> None:
    page.goto(f"{guarded.url}/ui/facilities")
    page.wait_for_url(re.compile(r".*/login\?next=/ui/facilities$"))
    page.fill("#username", "lead")
    page.fill("#password", "not it")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Unknown user or wrong password.")

    page.fill("#username", "lead")
    page.fill("#password", "warehouse lead 42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{guarded.url}/ui/facilities")
    # the page's own callbacks ran, with the session cookie
    expect(page.locator("#fac-clocks")).to_contain_text("DC-EAST", timeout=20_000)
    cookie = next(c for c in page.context.cookies() if c["name"] == "tower_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.context.clear_cookies()  # the session context is shared with the other page tests
