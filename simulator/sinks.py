"""Where the simulation's output goes: events to the tower's public API (or a file), fault
records to the ground-truth file.

The simulator never touches the tower's database: HttpEventSink speaks POST /api/v1/events like
any producer. Seam: when the tower grows interfaces for log lines with correlation ids, queue
metrics and OTLP spans, each gets a sink of its own beside EventSink (spans through the real
OpenTelemetry SDK exporter), and the runner hands every kind of item to its sink.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import httpx
import orjson

from collector.client import FileItem, post_batch
from simulator.records import Emission, FaultRecord, format_time

__all__ = ["EventSink", "FileEventSink", "GroundTruthWriter", "HttpEventSink", "SendResult"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (event_id, reason)


class EventSink(Protocol):
    """Takes batches of events. Implementations: the tower's HTTP API, an NDJSON file."""

    def send(self, events: Sequence[Emission]) -> SendResult: ...

    def close(self) -> None: ...


class HttpEventSink:
    """POST /api/v1/events as gzip NDJSON batches, waiting while the tower says it is busy."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        self.endpoint = url.rstrip("/") + "/api/v1/events"
        self._client = httpx.Client(timeout=timeout)

    def send(self, events: Sequence[Emission]) -> SendResult:
        items = [FileItem(e.event_id, e.to_json()) for e in events]
        answer, retries = post_batch(
            self._client, self.endpoint, items, on_retry=lambda why: log.info("retrying: %s", why)
        )
        rejected: list[dict[str, Any]] = answer.get("rejected", [])  # type: ignore[assignment]
        return SendResult(
            accepted=int(answer["accepted"]),  # type: ignore[call-overload]
            duplicates=int(answer["duplicates"]),  # type: ignore[call-overload]
            rejected=[(items[r["index"]].where, str(r["reason"])) for r in rejected],
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FileEventSink:
    """Writes events as NDJSON (for `tower ingest` later, or to inspect a run)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("wb")

    def send(self, events: Sequence[Emission]) -> SendResult:
        self._file.write(b"".join(e.to_json() + b"\n" for e in events))
        return SendResult(accepted=len(events))

    def close(self) -> None:
        self._file.close()


class GroundTruthWriter:
    """The run's ground truth as NDJSON: a header line, then one line per injected fault."""

    def __init__(self, path: Path, *, header: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.count = 0
        self._file: IO[bytes] = path.open("wb")
        self._file.write(orjson.dumps({"record": "run", **header}) + b"\n")
        self._file.flush()

    def write(self, record: FaultRecord) -> None:
        self._file.write(record.to_json() + b"\n")
        self.count += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self, *, ended_at: datetime | None = None) -> None:
        if ended_at is not None:
            line = {"record": "end", "at": format_time(ended_at), "faults": self.count}
            self._file.write(orjson.dumps(line) + b"\n")
        self._file.close()
