"""Real tower servers for tests: in a thread of this process, or as a separate process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tower.app import create_app
from tower.clock import Clock, utc_now
from tower.settings import Settings


def keyed_settings(db_path: Path, admin_key: str) -> Settings:
    """A tower that requires API keys, with `admin_key` as its bootstrap admin key."""
    return Settings(db_path=db_path, auth_required=True, bootstrap_admin_key=admin_key)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(
    url: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"tower exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"tower at {url} not healthy after {timeout} s")


class ThreadServer:
    """uvicorn serving create_app(settings) on a free 127.0.0.1 port, in a background thread.

    The app object stays reachable (`.app`), so a test can look at or hold the real store.
    """

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: FastAPI = create_app(settings, clock=clock)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        wait_healthy(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)


class ProcessServer:
    """`tower serve` as its own process, so a test can SIGKILL it like a crash would."""

    def __init__(self, db_path: Path, *, env: dict[str, str] | None = None) -> None:
        self.db_path = db_path
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ProcessServer:
        env = {**os.environ, "TOWER_LOG_LEVEL": "warning", **self.env}
        log = open(self.db_path.with_suffix(".log"), "ab")  # noqa: SIM115  (kept for the process)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tower",
                "serve",
                "--db",
                str(self.db_path),
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_healthy(self.url, process=self.process)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
