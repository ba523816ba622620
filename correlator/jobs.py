"""The correlator's job: stitch events past the watermark into journeys, once per call.

Incremental and idempotent: the watermark (last ingest seq processed) moves in the same
transaction as the journeys it produced, so a crash or a re-run never stitches an event twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
from opentelemetry import trace

from correlator.identity import EventNodes, Node, Resolution, resolve
from correlator.models import ModelSet
from correlator.rebuild import rebuild_journeys
from tower.db import Store, load_queries, split_statements
from tower.exceptions import StorageError

__all__ = ["RunReport", "run_once", "run_until_caught_up"]

log = logging.getLogger(__name__)
SQL = load_queries("correlator")
APPLY_BATCH = split_statements(SQL["apply_batch"])
LANE = "correlator"
# The tower's own spans (tower/selfobs/telemetry.py routes them); a no-op while telemetry is off.
tracer = trace.get_tracer("tower.correlator")


@dataclass(frozen=True, slots=True)
class RunReport:
    events: int
    journeys_touched: int
    journeys_created: int
    merges: int
    watermark: int
    seconds: float


def run_once(*, store: Store, models: ModelSet, batch_size: int = 50_000) -> RunReport:
    """Stitch up to `batch_size` new events; report what changed.

    Runs are serialised per store: the watermark and identities are read before the write
    transaction, so two overlapping runs (the scheduler's and a caller's) would stitch the
    same events twice.
    """
    with store.job_lock("correlator"):
        return _run(store=store, models=models, batch_size=batch_size)


def _watermark_delay(store: Store, watermark: int) -> float | None:
    """Seconds from the newest stitched event's arrival to now: how far behind the run ends."""
    try:  # a figure for a span must never fail the run it describes
        rows = store.query(
            "SELECT max(received_at) AS received FROM events WHERE seq = ?",
            [watermark],
            doing="reading the watermark's arrival time",
        )
    except StorageError:
        log.warning("cannot read the watermark's arrival time for the span", exc_info=True)
        return None
    received = rows[0]["received"] if rows else None
    return (datetime.now(UTC) - received).total_seconds() if received is not None else None


def _run(*, store: Store, models: ModelSet, batch_size: int) -> RunReport:
    started = time.perf_counter()
    watermark = _state(store, "watermark")
    rows = store.query_arrow(
        SQL["new_events"], {"watermark": watermark, "limit": batch_size}, doing="reading new events"
    ).to_pylist()
    if not rows:  # an idle run makes no span: one every 2 s would bury the ones that did work
        return RunReport(0, 0, 0, 0, watermark, time.perf_counter() - started)
    with tracer.start_as_current_span("tower.correlator.run") as span:
        report = _stitch(store, models, rows, watermark=watermark, started=started)
        if span.is_recording():
            span.set_attributes(
                {
                    "tower.correlator.events": report.events,
                    "tower.correlator.journeys_touched": report.journeys_touched,
                    "tower.correlator.journeys_created": report.journeys_created,
                    "tower.correlator.watermark": report.watermark,
                }
            )
            delay = _watermark_delay(store, report.watermark)
            if delay is not None:
                span.set_attribute("tower.correlator.watermark_delay_seconds", delay)
        return report


def _stitch(
    store: Store, models: ModelSet, rows: list[dict[str, Any]], *, watermark: int, started: float
) -> RunReport:
    batch = [_nodes(row, models) for row in rows]
    known = _known_nodes(store, batch)
    resolution = resolve(batch, known, next_id=_state(store, "next_journey_id"))
    new_watermark = int(rows[-1]["seq"])

    with store.transaction(doing=f"stitching {len(rows)} events", lane=LANE) as con:
        _apply(con, resolution)
        touched = _touched(con, resolution)
        states = rebuild_journeys(con, models, touched, updated_seq=new_watermark)
        _record_positions(con, after=watermark, upto=new_watermark)
        con.execute(
            "UPDATE correlator_state SET value = ? WHERE name = 'watermark'", [new_watermark]
        )
        con.execute(
            "UPDATE correlator_state SET value = ? WHERE name = 'next_journey_id'",
            [resolution.next_id],
        )
    report = RunReport(
        events=len(rows),
        journeys_touched=states,
        journeys_created=len(resolution.new_journeys),
        merges=len(resolution.merges),
        watermark=new_watermark,
        seconds=time.perf_counter() - started,
    )
    log.debug("correlator: %s", report)
    return report


def run_until_caught_up(
    *,
    store: Store,
    models: ModelSet,
    batch_size: int = 50_000,
    on_progress: Callable[[RunReport], None] | None = None,
) -> list[RunReport]:
    """Run batches until no event is waiting (a backfill)."""
    reports: list[RunReport] = []
    while True:
        report = run_once(store=store, models=models, batch_size=batch_size)
        if not report.events:
            return reports
        reports.append(report)
        if on_progress is not None:
            on_progress(report)


def pending_events(*, store: Store) -> int:
    """Events stored but not yet stitched."""
    return int(
        store.scalar(
            "SELECT count(*) FROM events WHERE seq > (SELECT value FROM correlator_state"
            " WHERE name = 'watermark')",
            doing="counting unstitched events",
        )
    )


def _state(store: Store, name: str) -> int:
    return int(
        store.scalar(
            "SELECT value FROM correlator_state WHERE name = ?",
            [name],
            doing=f"reading correlator {name}",
        )
    )


def _nodes(row: dict[str, Any], models: ModelSet) -> EventNodes:
    object_type = row["object_type"]
    model = models.for_object_type(object_type)
    dimensions = set(model.dimensions) if model else set()
    keys: dict[str, str] = orjson.loads(row["keys"])
    own = tuple((object_type, ns, v) for ns, v in sorted(keys.items()) if ns not in dimensions)
    related = []
    for ref in orjson.loads(row["related"]):
        ref_model = models.for_object_type(ref["object_type"])
        ref_dims = set(ref_model.dimensions) if ref_model else set()
        related.append(
            tuple(
                (ref["object_type"], ns, v)
                for ns, v in sorted(ref["keys"].items())
                if ns not in ref_dims
            )
        )
    return EventNodes(seq=int(row["seq"]), own=own, related=tuple(related))


def _known_nodes(store: Store, batch: list[EventNodes]) -> dict[Node, int]:
    nodes = {n for e in batch for n in e.own} | {n for e in batch for g in e.related for n in g}
    if not nodes:
        return {}
    object_types, namespaces, values = zip(*nodes, strict=True)
    batch_nodes = pa.table(
        {"object_type": list(object_types), "namespace": list(namespaces), "value": list(values)}
    )
    cur = store.cursor()
    cur.register("batch_nodes", batch_nodes)
    try:
        rows = store.query(SQL["known_nodes"], doing="looking up known keys")
    finally:
        cur.unregister("batch_nodes")
    return {(r["object_type"], r["namespace"], r["value"]): int(r["journey_id"]) for r in rows}


def _apply(con: Any, resolution: Resolution) -> None:
    tables = {
        "merges": pa.table(
            {
                "absorbed": pa.array(list(resolution.merges), pa.int64()),
                "survivor": pa.array(list(resolution.merges.values()), pa.int64()),
            }
        ),
        "new_nodes": pa.table(
            {
                "object_type": [n[0] for n in resolution.new_nodes],
                "namespace": [n[1] for n in resolution.new_nodes],
                "value": [n[2] for n in resolution.new_nodes],
                "journey_id": pa.array(list(resolution.new_nodes.values()), pa.int64()),
            }
        ),
        "new_members": pa.table(
            {
                "journey_id": pa.array(list(resolution.own_journey.values()), pa.int64()),
                "seq": pa.array(list(resolution.own_journey), pa.int64()),
            }
        ),
        "new_links": pa.table(
            {
                "from_journey": pa.array([a for a, _ in resolution.links], pa.int64()),
                "to_journey": pa.array([b for _, b in resolution.links], pa.int64()),
            }
        ),
    }
    for name, table in tables.items():
        con.register(name, table)
    try:
        for statement in APPLY_BATCH:
            con.execute(statement)
    finally:
        for name in tables:
            con.unregister(name)


def _touched(con: Any, resolution: Resolution) -> list[int]:
    """Journeys to rebuild: those the batch changed, and those that include them."""
    direct = set(resolution.own_journey.values()) | set(resolution.merges.values())
    direct |= {j for link in resolution.links for j in link}
    if not direct:
        return []
    con.register("direct", pa.table({"journey_id": pa.array(sorted(direct), pa.int64())}))
    try:
        rows = con.execute(
            "SELECT DISTINCT to_journey FROM journey_links"
            " WHERE from_journey IN (SELECT journey_id FROM direct)"
        ).fetchall()
    finally:
        con.unregister("direct")
    return sorted(direct | {int(r[0]) for r in rows})


def _record_positions(con: Any, *, after: int, upto: int) -> None:
    """Keep the newest stock position each source reported (for drift)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE batch_positions AS {SQL['batch_positions']}",
        {"after": after, "upto": upto},
    )
    con.execute(SQL["upsert_positions"])
