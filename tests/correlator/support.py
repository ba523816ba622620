"""Storing events the way the collector does, without a server: for store-level correlator tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from collector.ingest import BodyFormat, split_items, validate
from collector.writer import Writer
from tower.db import Store


def store_events(store: Store, events: list[dict[str, Any]], batch: int = 97) -> None:
    """Validate and commit `events` through the real writer, in batches; all must be valid."""
    writer = Writer(store, max_queued_events=10_000, max_commit_events=10_000)
    writer.start()
    try:
        for start in range(0, len(events), batch):
            body = b"\n".join(orjson.dumps(e) for e in events[start : start + batch])
            validated = validate(
                store, split_items(body, BodyFormat.NDJSON), received_at=datetime.now(UTC)
            )
            assert validated.rejects.num_rows == 0, validated.rejects.to_pylist()
            writer.submit(validated, request_id="test").result()
    finally:
        writer.stop()
