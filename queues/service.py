"""Storing queue samples in bulk and reading each queue's latest state and history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
from pydantic import ValidationError

from adapters.rabbitmq import DEAD_LETTER_NAME
from adapters.records import QueueSample, Rejected
from queues.models import QueueOut, SampleIn, SampleOut
from tower.db import Store, load_queries

__all__ = ["list_queues", "samples_from_items", "samples_table", "store_samples"]

SQL = load_queries("queues")
LANE = "queues"
TIME = pa.timestamp("ns", tz="UTC")


def samples_from_items(
    items: Sequence[Any], *, received_at: datetime
) -> tuple[list[QueueSample], list[tuple[Rejected, str]]]:
    """Posted JSON items to samples; each refused item with its reason and raw text."""
    samples: list[QueueSample] = []
    refused: list[tuple[Rejected, str]] = []
    for index, item in enumerate(items):
        try:
            given = SampleIn.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            reason = f"{where}: {first['msg']}" if where else first["msg"]
            refused.append((Rejected(index, reason), orjson.dumps(item).decode()))
            continue
        when = given.sampled_at or received_at
        dead = given.dead_letter
        if dead is None:
            dead = bool(DEAD_LETTER_NAME.search(given.queue))
        samples.append(
            QueueSample(
                time_ns=_ns(when),
                broker=given.broker,
                vhost=given.vhost,
                queue=given.queue,
                depth=given.depth,
                origin="api",
                ready=given.ready,
                unacked=given.unacked,
                consumers=given.consumers,
                publish_rate=given.publish_rate,
                deliver_rate=given.deliver_rate,
                oldest_age_seconds=given.oldest_age_seconds,
                dead_letter=dead,
                attributes=given.attributes,
            )
        )
    return samples, refused


def samples_table(samples: Sequence[QueueSample], *, received_at: datetime) -> pa.Table:
    """Samples as an Arrow table in the shape of queue_samples."""

    def column(name: str, kind: pa.DataType) -> pa.Array:
        return pa.array([getattr(s, name) for s in samples], kind)

    return pa.table(
        {
            "sampled_at": pa.array([s.time_ns for s in samples], pa.int64()).cast(TIME),
            "broker": column("broker", pa.string()),
            "vhost": column("vhost", pa.string()),
            "queue": column("queue", pa.string()),
            "depth": column("depth", pa.int64()),
            "ready": column("ready", pa.int64()),
            "unacked": column("unacked", pa.int64()),
            "consumers": column("consumers", pa.int32()),
            "publish_rate": column("publish_rate", pa.float64()),
            "deliver_rate": column("deliver_rate", pa.float64()),
            "oldest_age_seconds": column("oldest_age_seconds", pa.float64()),
            "dead_letter": column("dead_letter", pa.bool_()),
            "origin": column("origin", pa.string()),
            "attributes": pa.array([_json(s.attributes) for s in samples], pa.string()),
            "received_at": pa.array([received_at] * len(samples), pa.timestamp("us", tz="UTC")),
        }
    )


def store_samples(
    *,
    store: Store,
    samples: Sequence[QueueSample],
    received_at: datetime,
    refused: Sequence[tuple[Rejected, str]] = (),
    request_id: str = "queues",
) -> None:
    """Store samples (and keep refused items in the rejects) in one transaction."""
    if not samples and not refused:
        return
    with store.transaction(doing=f"storing {len(samples)} queue samples", lane=LANE) as con:
        if samples:
            con.register("incoming", samples_table(samples, received_at=received_at))
            try:
                con.execute(SQL["insert_samples"])
            finally:
                con.unregister("incoming")
        if refused:
            table = pa.table(
                {
                    "received_at": pa.array(
                        [received_at] * len(refused), pa.timestamp("us", tz="UTC")
                    ),
                    "request_id": pa.array([request_id] * len(refused), pa.string()),
                    "batch_index": pa.array([r.index for r, _ in refused], pa.int32()),
                    "reason": pa.array([f"queue sample: {r.reason}" for r, _ in refused]),
                    "raw": pa.array([raw for _, raw in refused], pa.string()),
                }
            )
            con.register("refused", table)
            try:
                con.execute(SQL["insert_rejects"])
            finally:
                con.unregister("refused")


def list_queues(
    *,
    store: Store,
    broker: str | None = None,
    vhost: str | None = None,
    queue: str | None = None,
    dead_letter: bool | None = None,
    since: datetime | None = None,
    history: int = 20,
) -> list[QueueOut]:
    """Every queue matching the filters: its newest sample and up to `history` samples."""
    params = {
        "broker": broker,
        "vhost": vhost,
        "queue": queue,
        "dead_letter": dead_letter,
        "since": since,
        "history": history,
    }
    rows = store.query(SQL["list_queues"], params, doing="listing queues")
    grouped: dict[tuple[str, str, str], list[SampleOut]] = {}
    for row in rows:
        key = (row.pop("broker"), row.pop("vhost"), row.pop("queue"))
        row["attributes"] = orjson.loads(row["attributes"])
        grouped.setdefault(key, []).append(SampleOut(**row))
    return [
        QueueOut(
            broker=broker_,
            vhost=vhost_,
            queue=queue_,
            dead_letter=any(s.dead_letter for s in samples),
            latest=samples[0],
            history=samples,
        )
        for (broker_, vhost_, queue_), samples in grouped.items()
    ]


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000
