"""Screenshots of every dashboard page for the docs: `python -m dashboards.screenshots`.

Starts `tower demo` (the simulated distributor, a day of history) on a scratch database and a
free port, waits until the history is in and stitched, opens each page in headless Chromium
(Debian's /usr/bin/chromium, driven by playwright) and saves docs/screenshots/<page>.png.
The demo is stopped with Ctrl-C's signal when done. Needs playwright and chromium; nothing
else of the tower imports this module.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["PAGES", "main"]

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
# file name -> (path under /ui/, the id prefix of the page's last-updated line)
PAGES: dict[str, tuple[str, str]] = {
    "executive": ("?period=7d", "exec"),
    "trace": ("trace?q={order}", "trace"),
    "facilities": ("facilities?period=24h", "fac"),
    "process": ("process?period=7d", "proc"),
    "oncall": ("oncall", "oncall"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_history(url: str, *, timeout: float) -> None:
    """Until the backfill is in (the event count grows at the live rate only, three polls in
    a row) and stitched (the correlator has next to nothing waiting)."""
    deadline = time.monotonic() + timeout
    last, calm = -1, 0
    with httpx.Client(base_url=url, timeout=10) as http:
        while time.monotonic() < deadline:
            time.sleep(3)
            try:
                metrics = http.get("/metrics").text
            except httpx.TransportError:
                continue
            count = int(_metric(metrics, "tower_events_accepted_total") or 0)
            waiting = _metric(metrics, "tower_correlator_events_waiting")
            settled = count > 0 and count - last < 200  # a few live events a second
            calm = calm + 1 if settled and (waiting is None or waiting < 500) else 0
            last = count
            if calm >= 3:
                return
    raise TimeoutError(f"the demo at {url} did not settle within {timeout:.0f} s")


def _metric(metrics: str, name: str) -> float | None:
    """An unlabelled sample from the Prometheus text of /metrics (None when absent)."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def _an_order(url: str) -> str:
    """A stalled order's label (a journey worth looking at), else any order's."""
    for status in ("stalled", "at_risk", None):
        params: dict[str, Any] = {"kind": "order", "limit": 1, "sort": "value", "order": "desc"}
        if status:
            params["status"] = status
        items = httpx.get(f"{url}/api/v1/journeys", params=params, timeout=30).json()["items"]
        if items:
            return str(items[0]["label"])
    raise RuntimeError("the demo has no orders")


def shoot(url: str, out: Path, *, width: int = 1440, height: int = 900) -> list[Path]:
    """Save a full-page screenshot of every page of the tower at `url` into `out`."""
    from playwright.sync_api import sync_playwright

    order = _an_order(url)
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(60_000)
        for name, (path, prefix) in PAGES.items():
            page.goto(f"{url}/ui/{path.format(order=order)}")
            page.wait_for_selector(f"#{prefix}-updated:has-text('updated')")
            page.wait_for_load_state("networkidle")
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            saved.append(target)
            log.info("saved %s", target)
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--backfill-days", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per poll says nothing
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            str(Path(sys.executable).with_name("tower")),
            "demo",
            "--db",
            str(Path(tmp) / "demo.duckdb"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backfill-days",
            str(args.backfill_days),
        ]
        # The pictures show the pages, not the sign-in: this throwaway demo runs without it.
        env = {**os.environ, "TOWER_AUTH_REQUIRED": "false"}
        demo = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        try:
            _wait_for_history(url, timeout=args.timeout)
            shoot(url, args.out)
        finally:
            demo.send_signal(signal.SIGINT)  # the demo's own clean stop (Ctrl-C)
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
