"""A real RabbitMQ with the management plugin for tests: installed and started when missing.

DESIGN.md section 9: Debian's rabbitmq-server, on free 127.0.0.1 ports, in a temp directory
owned by the rabbitmq user; stopped by rabbitmqctl (then by the pid) at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from tests.servers import free_port

SERVER = "/usr/sbin/rabbitmq-server"
CTL = "/usr/sbin/rabbitmqctl"
STATS_MS = 200  # how often queue statistics refresh in the management API


class BrokerUnavailable(Exception):
    """RabbitMQ cannot be installed or started here; the reason says why."""


def ensure_installed() -> None:
    """apt-get install rabbitmq-server when it is missing (as root; apt-get update once)."""
    if Path(SERVER).exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrokerUnavailable("rabbitmq-server is missing and apt-get cannot run as root here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "rabbitmq-server"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BrokerUnavailable(f"{' '.join(command)} failed: {done.stderr[-500:]}")


class RabbitMq:
    """One broker in `base`; `.api` is its management API URL (guest/guest)."""

    def __init__(self) -> None:
        # Its own directory under /tmp: the server runs as the rabbitmq user, which cannot
        # enter pytest's 0700 temp folders.
        self.base = Path(tempfile.mkdtemp(prefix="tower-rabbitmq-"))
        self.node = f"tower{os.getpid()}@localhost"
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.http_port = free_port()
        self.api = f"http://127.0.0.1:{self.http_port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    def start(self, *, timeout: float = 60.0) -> RabbitMq:
        (self.base / "mnesia").mkdir()
        (self.base / "log").mkdir()
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.port = {self.http_port}\n"
            "management.tcp.ip = 127.0.0.1\n"
            "loopback_users = none\n"
            f"collect_statistics_interval = {STATS_MS}\n"
        )
        subprocess.run(["chown", "-R", "rabbitmq", str(self.base)], check=False)
        self.env = {
            **os.environ,
            "HOME": str(self.base),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
        }
        log = (self.base / "server.out").open("wb")
        self.process = subprocess.Popen(
            [SERVER], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.base
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.base / "server.out").read_text(errors="replace")[-1500:]
                raise BrokerUnavailable(f"rabbitmq-server exited {self.process.returncode}: {tail}")
            try:
                if httpx.get(
                    f"{self.api}/api/overview", auth=("guest", "guest"), timeout=2
                ).is_success:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.stop()
        raise BrokerUnavailable(f"RabbitMQ's management API did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        subprocess.run(
            [CTL, "-n", self.node, "stop"],
            env=self.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def remove(self) -> None:
        """Delete the broker's directory (after stop)."""
        shutil.rmtree(self.base, ignore_errors=True)

    # -- the management API, as a test drives it ----------------------------------------------

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = httpx.request(
            method, self.api + path, json=body, auth=("guest", "guest"), timeout=10
        )
        response.raise_for_status()
        return response

    def declare_queue(self, name: str, arguments: dict[str, Any] | None = None) -> None:
        self.call(
            "PUT", f"/api/queues/%2F/{_q(name)}", {"durable": False, "arguments": arguments or {}}
        )

    def declare_exchange(self, name: str, kind: str = "fanout") -> None:
        self.call("PUT", f"/api/exchanges/%2F/{_q(name)}", {"type": kind, "durable": False})

    def bind(self, exchange: str, queue: str, routing_key: str = "") -> None:
        self.call(
            "POST",
            f"/api/bindings/%2F/e/{_q(exchange)}/q/{_q(queue)}",
            {"routing_key": routing_key},
        )

    def publish(self, queue: str, payload: str, *, timestamp: int | None = None) -> None:
        """Publish through the default exchange straight to `queue`."""
        properties = {"timestamp": timestamp} if timestamp is not None else {}
        answer = self.call(
            "POST",
            "/api/exchanges/%2F/amq.default/publish",
            {
                "properties": properties,
                "routing_key": queue,
                "payload": payload,
                "payload_encoding": "string",
            },
        ).json()
        assert answer["routed"], answer

    def reject(self, queue: str, count: int) -> None:
        """Take `count` messages and reject them without requeue: they are dead-lettered."""
        self.call(
            "POST",
            f"/api/queues/%2F/{_q(queue)}/get",
            {"count": count, "ackmode": "reject_requeue_false", "encoding": "auto"},
        )

    def depth(self, queue: str) -> int | None:
        return self.call("GET", f"/api/queues/%2F/{_q(queue)}").json().get("messages")


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")
