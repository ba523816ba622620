"""One benchmark client process: its share of the events file, posted as NDJSON batches in turn.

The bodies are built (and gzipped, when asked) before the clients start together, so the clock
measures the tower, not the client's preparation. Each client has one request in flight at a
time, back to back or on a schedule, and honours 429/503 with Retry-After like a real producer.
"""

from __future__ import annotations

import gzip
import itertools
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ClientPlan", "ClientResult", "run_client"]

BUSY_STATUSES = {429, 503}
MAX_BUSY_RETRIES = 600
START_TIMEOUT = 600.0  # seconds the clients wait for each other to be ready


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """What one client sends, and when."""

    url: str  # the ingest endpoint
    path: Path
    first_line: int  # this client's lines of the file: [first_line, first_line + lines)
    lines: int
    batch_size: int
    gzip: bool
    interval: float | None  # seconds between this client's batch sends; None: back to back
    delay: float = 0.0  # this client's first send, after the common start


@dataclass(slots=True)
class ClientResult:
    """What one client saw. Times are time.monotonic(), one clock for every process here."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    first_send: float = 0.0
    last_ack: float = 0.0
    latencies: list[float] = field(default_factory=list)  # per batch: first send to its 200
    busy_retries: int = 0
    max_behind: float = 0.0  # paced clients: how late the latest send was against its schedule
    error: str | None = None


def build_bodies(plan: ClientPlan) -> list[bytes]:
    """This client's lines of the file, as request bodies of `batch_size` lines."""
    with plan.path.open("rb") as fh:
        lines = list(itertools.islice(fh, plan.first_line, plan.first_line + plan.lines))
    bodies = [
        b"".join(lines[i : i + plan.batch_size]) for i in range(0, len(lines), plan.batch_size)
    ]
    if plan.gzip:
        bodies = [gzip.compress(body, compresslevel=1) for body in bodies]
    return bodies


def post(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str]
) -> tuple[dict[str, Any], int]:
    """Post one body until the tower takes it; the answer and how often it said busy."""
    for busy in range(MAX_BUSY_RETRIES + 1):
        response = client.post(url, content=body, headers=headers)
        if response.status_code not in BUSY_STATUSES:
            response.raise_for_status()
            return response.json(), busy
        time.sleep(float(response.headers.get("Retry-After", "1")))
    raise RuntimeError(f"tower still busy after {MAX_BUSY_RETRIES} retries")


def send_all(client: httpx.Client, plan: ClientPlan, bodies: list[bytes]) -> ClientResult:
    """Post every body in turn, on the plan's schedule; record each batch's ack latency."""
    headers = {"Content-Type": "application/x-ndjson"}
    if plan.gzip:
        headers["Content-Encoding"] = "gzip"
    result = ClientResult()
    start = time.monotonic()
    for number, body in enumerate(bodies):
        if plan.interval is not None:
            due = start + plan.delay + number * plan.interval
            now = time.monotonic()
            result.max_behind = max(result.max_behind, now - due)
            if due > now:
                time.sleep(due - now)
        sent = time.monotonic()
        answer, busy = post(client, plan.url, body, headers)
        result.last_ack = time.monotonic()
        result.first_send = result.first_send or sent
        result.latencies.append(result.last_ack - sent)
        result.busy_retries += busy
        result.accepted += answer["accepted"]
        result.duplicates += answer["duplicates"]
        result.rejected += len(answer["rejected"])
    return result


def run_client(plan: ClientPlan, ready: Barrier, results: Queue[ClientResult]) -> None:
    """A client process: prepare, wait for the others, send, report on `results`."""
    try:
        bodies = build_bodies(plan)
        with httpx.Client(timeout=120.0) as client:
            ready.wait(START_TIMEOUT)
            result = send_all(client, plan, bodies)
    except Exception:
        ready.abort()  # the other clients must not wait for this one
        result = ClientResult(error=traceback.format_exc())
    results.put(result)
