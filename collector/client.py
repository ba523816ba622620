"""A client for POST /api/v1/events: files in, batches out, retries on back-pressure.

Used by `tower ingest`; anything that feeds the tower over HTTP can use it too.
"""

from __future__ import annotations

import gzip
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

__all__ = [
    "FileItem",
    "IngestSummary",
    "UnreadableFile",
    "post_batch",
    "read_items",
    "send_edi_file",
    "send_file",
    "send_log_file",
]

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
RETRY_STATUSES = {429, 503}


@dataclass(frozen=True, slots=True)
class FileItem:
    """One event's text and where it came from (a line, or an array position)."""

    where: str
    text: bytes


@dataclass(slots=True)
class IngestSummary:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    retries: int = 0
    records: int = 0  # log records stored (tower ingest --format log)


class UnreadableFile(Exception):
    """A file that is neither NDJSON nor a JSON array or object."""


def read_items(path: Path) -> Iterator[FileItem]:
    """Items of an NDJSON or JSON (array or object) file, gzip or not."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        first_line = fh.readline()
        first = first_line.lstrip()[:1]
        # A '[' file is one array; a '{' file whose first line is not a whole object is one
        # pretty-printed object. NDJSON is streamed line by line, never read whole.
        whole = None
        if first == b"[" or (first == b"{" and _json_error(first_line) is not None):
            whole = first_line + fh.read()
    if whole is not None and first == b"[":
        try:
            items = orjson.loads(whole)
        except orjson.JSONDecodeError as exc:
            raise UnreadableFile(f"{path} starts like a JSON array but is not JSON: {exc}") from exc
        for i, item in enumerate(items):
            yield FileItem(f"{path}[{i}]", orjson.dumps(item))
        return
    if whole is not None:
        try:
            single = orjson.loads(whole)
        except orjson.JSONDecodeError:
            single = None  # not one object either: fall back to lines, each rejected with why
        if isinstance(single, dict):
            yield FileItem(f"{path}", orjson.dumps(single))
            return
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield FileItem(f"{path}:{number}", line.strip())


def _json_error(text: bytes) -> str | None:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return str(exc)
    return None


def post_batch(
    client: httpx.Client,
    url: str,
    items: list[FileItem],
    *,
    busy_retries: int = 60,
    transport_retries: int = 3,
    on_retry: Callable[[str], None] | None = None,
    content_type: str = "application/x-ndjson",
) -> tuple[dict[str, object], int]:
    """Post one batch as gzip NDJSON; retry while the tower asks to. Returns (answer, retries).

    A busy tower (429/503) is waited for as long as it asks, up to `busy_retries` times; a
    connection failure is retried briefly, since an unreachable tower rarely comes back soon.
    """
    body = gzip.compress(b"\n".join(it.text for it in items), compresslevel=1)
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    busy = failed = 0
    while True:
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            failed += 1
            if failed > transport_retries:
                raise
            wait, why = 0.2 * 2**failed, f"connection problem: {exc}"
        else:
            if response.status_code not in RETRY_STATUSES:
                response.raise_for_status()
                answer: dict[str, object] = response.json()
                return answer, busy + failed
            busy += 1
            if busy > busy_retries:
                response.raise_for_status()
            wait = float(response.headers.get("Retry-After", "1"))
            why = f"tower busy ({response.status_code})"
        if on_retry is not None:
            on_retry(why)
        time.sleep(wait)


def send_file(
    client: httpx.Client,
    url: str,
    path: Path,
    summary: IngestSummary,
    *,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Send every item of a file in batches, adding the outcome to `summary`."""
    batch: list[FileItem] = []

    def flush() -> None:
        answer, retries = post_batch(client, url, batch)
        summary.retries += retries
        summary.accepted += int(answer["accepted"])  # type: ignore[call-overload]
        summary.duplicates += int(answer["duplicates"])  # type: ignore[call-overload]
        for reject in answer["rejected"]:  # type: ignore[attr-defined]
            summary.rejected.append((batch[reject["index"]].where, reject["reason"]))
        if on_batch is not None:
            on_batch(len(batch))
        batch.clear()

    for item in read_items(path):
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()


# A line that continues the record before it (a stack trace): never the first line of a batch.
_CONTINUATION = re.compile(rb"^(?:\s|Caused by:|\.\.\. \d+ more|Suppressed:)")


def send_log_file(
    client: httpx.Client,
    url: str,
    path: Path,
    summary: IngestSummary,
    *,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Send a log file's lines to POST /api/v1/logs in batches that keep stack traces whole."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    opener = gzip.open if gzipped else open
    batch: list[FileItem] = []

    def flush() -> None:
        answer, retries = post_batch(client, url, batch, content_type="text/plain")
        events: dict[str, Any] = answer["events"]  # type: ignore[assignment]
        summary.retries += retries
        summary.records += int(answer["records"])  # type: ignore[call-overload]
        summary.accepted += int(events["accepted"])
        summary.duplicates += int(events["duplicates"])
        summary.rejected += [(str(path), r["reason"]) for r in events["rejected"]]
        if on_batch is not None:
            on_batch(len(batch))
        batch.clear()

    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.rstrip(b"\r\n")
            if len(batch) >= batch_size and not _CONTINUATION.match(text):
                flush()
            batch.append(FileItem(f"{path}:{number}", text))
    if batch:
        flush()


def send_edi_file(
    client: httpx.Client,
    url: str,
    path: Path,
    summary: IngestSummary,
    *,
    batch_size: int,  # noqa: ARG001  (one file is one interchange: sent whole)
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Send one X12 file to POST /api/v1/edi whole, adding the outcome to `summary`."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    body = gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
    busy = 0
    while True:
        response = client.post(url, content=body, headers={"Content-Type": "application/edi-x12"})
        if response.status_code not in RETRY_STATUSES or busy >= 60:
            break
        busy += 1
        time.sleep(float(response.headers.get("Retry-After", "1")))
    summary.retries += busy
    if response.status_code == 400:  # not X12 at all: this file is refused, the others go on
        summary.rejected.append((str(path), str(response.json().get("detail", response.text))))
        return
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    events = answer["events"]
    summary.accepted += int(events["accepted"])
    summary.duplicates += int(events["duplicates"])
    summary.rejected += [(f"{path} event {r['index']}", r["reason"]) for r in events["rejected"]]
    summary.rejected += [(f"{path} segment {r['segment']}", r["reason"]) for r in answer["refused"]]
    if on_batch is not None:
        on_batch(1)
