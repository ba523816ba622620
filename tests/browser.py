"""A real headless Chromium for the page tests: Debian's chromium driven by Playwright.

One browser for the whole session, shared by every folder's page tests (tests/conftest.py
registers these fixtures): a second sync Playwright in the same thread cannot start while
the first one runs.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _ensure_chromium() -> str | None:
    """Debian's chromium, installed with apt-get when missing; None when that fails."""
    if CHROMIUM.exists():
        return None
    if shutil.which("apt-get") is None:
        return "no /usr/bin/chromium and no apt-get to install it"
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            check=False,
        )
        if done.returncode != 0:
            return f"cannot install chromium ({' '.join(command)}): {done.stderr.strip()[-300:]}"
    return (
        None if CHROMIUM.exists() else "apt-get installed chromium but /usr/bin/chromium is absent"
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _ensure_chromium()
    if problem:
        pytest.skip(f"no headless browser for the page tests: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser: Any) -> Iterator[Any]:
    """One browser profile for the session, so Dash's and Plotly's scripts load once."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab that fails the test on any console error or uncaught page error."""
    from playwright.sync_api import expect

    tab = browser_context.new_page()
    tab.set_default_timeout(20_000)
    # expect's own 5 s is too short when the machine's cores are shared with other work
    expect.set_options(timeout=20_000)
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    yield tab
    tab.close()
    assert problems == [], problems
