"""Slack, e-mail and a real Alertmanager receive what the tower sends (all on 127.0.0.1)."""

from __future__ import annotations

import shutil
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.lifecycle import fingerprint
from alerts.models import AlertingConfig
from tests.servers import free_port
from tests.sla.support import T0, Receiver, Tower, order, running_tower

STALL = timedelta(hours=2, minutes=5, seconds=1)  # past no_progress_for and `for`
ALLOCATED = T0 + timedelta(minutes=10)
FIRED = ALLOCATED + STALL


def stalled_order(tower: Tower, start: datetime) -> None:
    tower.post(
        order("order.accepted", start, "W-1", value=900.0, currency="USD"),
        order("order.allocated", start + timedelta(minutes=10), "W-1"),
    )


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[Tower]:
    with running_tower(tmp_path) as running:
        stalled_order(running, T0)
        yield running


def config(receiver: dict[str, Any]) -> AlertingConfig:
    return AlertingConfig.model_validate(
        {
            "route": {
                "receiver": "oncall",
                "group_wait": "0s",
                "routes": [{"matchers": ["alertname!=orders_stalled_in_allocation"]}],
            },
            "receivers": [{"name": "oncall", **receiver}],
        }
    )


def fire(tower: Tower, alerting: AlertingConfig, at: datetime = FIRED) -> None:
    tower.cycle(at - timedelta(minutes=5), alerting)  # pending
    report = tower.cycle(at, alerting)  # firing, group_wait 0: sent
    assert (report.notifications, report.delivered) == (1, 1), report


def test_slack_incoming_webhook(tower: Tower) -> None:
    with Receiver() as slack:
        fire(tower, config({"slack_configs": [{"url": slack.url, "channel": "#oncall"}]}))
    [body] = slack.bodies
    assert body["channel"] == "#oncall"
    head, line = body["text"].splitlines()
    assert head == "*[FIRING:1] alertname=orders_stalled_in_allocation facility=DC-EAST*"
    assert "|1 orders worth $900 stalled in allocated at DC-EAST" in line
    assert "/api/v1/journeys/search?q=" in line


class Smtp(socketserver.ThreadingTCPServer):
    """Just enough SMTP to take one message at a time; keeps what it was sent."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        outer.messages.append(data)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        super().__init__(("127.0.0.1", 0), Handler)


def test_smtp_email(tower: Tower) -> None:
    smtp = Smtp()
    thread = threading.Thread(target=smtp.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = smtp.server_address[:2]
        fire(
            tower,
            config(
                {
                    "email_configs": [
                        {
                            "to": ["oncall@example.com"],
                            "from": "tower@example.com",
                            "smarthost": f"{host}:{port}",
                        }
                    ]
                }
            ),
        )
    finally:
        smtp.shutdown()
        smtp.server_close()
    [raw] = smtp.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "oncall@example.com"
    assert mail["Subject"].startswith("[FIRING:1] alertname=orders_stalled_in_allocation")
    assert "1 orders worth $900 stalled in allocated at DC-EAST" in mail.get_payload()


def test_a_receiver_that_is_down_gets_it_later_and_only_once(tower: Tower) -> None:
    # Only the stalled orders' alert: the tower's own tower_receiver_failing alert would take
    # its turn at the failing receiver too.
    tower.definitions = tower.definitions.model_copy(
        update={"slas": [s for s in tower.definitions.slas if s.kind != "tower"]}
    )
    with Receiver() as hook:
        alerting = config({"webhook_configs": [{"url": hook.url}]})
        hook.fail_next = 3
        tower.cycle(FIRED - timedelta(minutes=5), alerting)
        waits = [0, 10, 20, 40]  # 10 s doubling: attempts at +0, +10, +30, +70
        at = FIRED
        for wait in waits:
            at += timedelta(seconds=wait)
            tower.cycle(at, alerting)
        assert len(hook.bodies) == 1
        tower.cycle(at + timedelta(minutes=3), alerting)
        assert len(hook.bodies) == 1
    [notice] = tower.http.get("/api/v1/alerts/notifications").json()["items"]
    assert (notice["status"], notice["attempts"]) == ("sent", 4)


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager (Debian's prometheus-alertmanager) on a free 127.0.0.1 port."""
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        try:
            subprocess.run(
                ["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=300
            )
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "prometheus-alertmanager"],
                check=True,
                capture_output=True,
                timeout=600,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"prometheus-alertmanager is not installed and cannot be installed: {exc}")
        binary = shutil.which("prometheus-alertmanager")
        if binary is None:
            pytest.skip("prometheus-alertmanager installed but not on PATH")
    folder = tmp_path_factory.mktemp("alertmanager")
    (folder / "am.yml").write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    port = free_port()
    log = (folder / "am.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'am.yml'}",
            f"--storage.path={folder}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                pytest.skip(f"alertmanager exited: {(folder / 'am.log').read_text()[-500:]}")
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.skip("alertmanager did not become ready in 30 s")
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_alerts_pushed_to_a_real_alertmanager(tmp_path: Path, alertmanager: str) -> None:
    # Alertmanager keeps its own wall clock and drops alerts whose endsAt has passed, so
    # this story happens in the last few hours of real time, not at the fixed T0.
    fired = datetime.now(UTC).replace(microsecond=0)
    with running_tower(tmp_path) as tower:
        stalled_order(tower, fired - STALL - timedelta(minutes=10))
        fire(tower, config({"alertmanager_configs": [{"url": alertmanager}]}), at=fired)
    shown = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    [alert] = [a for a in shown if a["labels"]["alertname"] == "orders_stalled_in_allocation"]
    assert alert["labels"]["facility"] == "DC-EAST"
    assert alert["status"]["state"] == "active"
    assert alert["fingerprint"] == fingerprint(alert["labels"])  # ours is Alertmanager's
    assert "stalled in allocated" in alert["annotations"]["summary"]
