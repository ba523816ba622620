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

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry import trace

from correlator.identity import NO_JOURNEY, OWN, Resolution, resolve
from correlator.models import ModelSet
from correlator.rebuild import model_tables, rebuild_journeys
from tower.db import Store, load_queries, split_statements
from tower.exceptions import StorageError

__all__ = ["RunReport", "run_once", "run_until_caught_up", "run_while_behind"]

log = logging.getLogger(__name__)
SQL = load_queries("correlator")
APPLY_BATCH = split_statements(SQL["apply_batch"])
LANE = "correlator"
# Events per run. A larger batch rebuilds a journey once for more of its events, and pays the
# scans that grow with the estate (all of `identity`) fewer times: at 10 M events, 800,000
# stitched 58k events/s against 54k for 400,000 and 46k for 200,000 (decision 0010).
DEFAULT_BATCH = 800_000
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


def run_once(*, store: Store, models: ModelSet, batch_size: int = DEFAULT_BATCH) -> RunReport:
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
    [batch] = store.query(
        SQL["new_events"], {"watermark": watermark, "limit": batch_size}, doing="reading new events"
    )
    if not batch["events"]:  # an idle run makes no span: one every 2 s would bury the busy ones
        return RunReport(0, 0, 0, 0, watermark, time.perf_counter() - started)
    with tracer.start_as_current_span("tower.correlator.run") as span:
        report = _stitch(
            store,
            models,
            watermark=watermark,
            upto=int(batch["upto"]),
            events=int(batch["events"]),
            started=started,
        )
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
    store: Store, models: ModelSet, *, watermark: int, upto: int, events: int, started: float
) -> RunReport:
    """Stitch the `events` events in (watermark, upto]."""
    keys = _batch_keys(store, models, after=watermark, upto=upto)
    resolution = resolve(
        seq=keys.column("seq").to_numpy(),
        related=keys.column("related").to_numpy(),
        node=_node_ids(keys),
        known=keys.column("known").to_numpy(),
        next_id=_state(store, "next_journey_id"),
    )
    new_watermark = upto

    with store.transaction(doing=f"stitching {events} events", lane=LANE) as con:
        _apply(con, keys, resolution)
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
        events=events,
        journeys_touched=states,
        journeys_created=resolution.journeys_created,
        merges=len(resolution.absorbed),
        watermark=new_watermark,
        seconds=time.perf_counter() - started,
    )
    log.debug("correlator: %s", report)
    return report


def run_while_behind(
    *, store: Store, models: ModelSet, batch_size: int, budget_seconds: float = 30.0
) -> list[RunReport]:
    """One scheduled tick: a run, then more while each takes a full batch, within a budget.

    One batch per tick caps the live correlator at batch_size / interval events/s, below what
    the collector ingests; a tick that finds a full batch waiting is behind and keeps going.
    The budget ends the tick under sustained overload, so the job still reports success.
    """
    started = time.monotonic()
    reports: list[RunReport] = []
    while True:
        reports.append(run_once(store=store, models=models, batch_size=batch_size))
        if reports[-1].events < batch_size or time.monotonic() - started >= budget_seconds:
            return reports


def run_until_caught_up(
    *,
    store: Store,
    models: ModelSet,
    batch_size: int = DEFAULT_BATCH,
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


def _batch_keys(store: Store, models: ModelSet, *, after: int, upto: int) -> pa.Table:
    """One row per key of the events in (after, upto] that names an object (batch_keys.sql)."""
    cur = store.cursor()
    cur.register("model_dimensions", model_tables(models)["model_dimensions"])
    try:
        return store.query_arrow(
            SQL["batch_keys"],
            {"after": after, "upto": upto, "own": OWN, "no_journey": NO_JOURNEY},
            doing="reading the batch's keys",
        )
    finally:
        cur.unregister("model_dimensions")


def _node_ids(keys: pa.Table) -> npt.NDArray[np.int64]:
    """Equal integers for equal (object_type, namespace, value): each column's dictionary code,
    combined positionally. Hashing is cheaper than DuckDB's dense_rank sort, and exact."""
    node = np.zeros(keys.num_rows, dtype=np.int64)
    distinct = 1  # an upper bound of node's values
    for name in ("object_type", "namespace", "value"):
        codes = pc.dictionary_encode(keys.column(name).combine_chunks())
        if distinct * len(codes.dictionary) >= 2**63:  # renumber densely rather than overflow
            node = np.unique(node, return_inverse=True)[1].astype(np.int64)
            distinct = keys.num_rows
        node = node * len(codes.dictionary) + codes.indices.to_numpy()
        distinct *= len(codes.dictionary)
    return node


def _apply(con: Any, keys: pa.Table, resolution: Resolution) -> None:
    """Record the batch's identity changes; `keys` is what `resolution` was resolved from."""
    new_nodes = keys.select(["object_type", "namespace", "value"]).take(
        pa.array(resolution.new_node_rows)
    )
    tables = {
        "merges": pa.table({"absorbed": resolution.absorbed, "survivor": resolution.survivor}),
        "new_nodes": new_nodes.append_column("journey_id", pa.array(resolution.new_node_journeys)),
        "new_members": pa.table(
            {"journey_id": resolution.member_journeys, "seq": resolution.member_seqs}
        ),
        "new_links": pa.table(
            {"from_journey": resolution.link_from, "to_journey": resolution.link_to}
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
    direct = np.unique(
        np.concatenate(
            [
                resolution.member_journeys,
                resolution.survivor,
                resolution.link_from,
                resolution.link_to,
            ]
        )
    )
    if not len(direct):
        return []
    con.register("direct", pa.table({"journey_id": direct}))
    try:
        linked = con.execute(
            "SELECT DISTINCT to_journey FROM journey_links"
            " WHERE from_journey IN (SELECT journey_id FROM direct)"
        ).fetchnumpy()["to_journey"]
    finally:
        con.unregister("direct")
    touched: list[int] = np.union1d(direct, linked).tolist()
    return touched


def _record_positions(con: Any, *, after: int, upto: int) -> None:
    """Keep the newest stock position each source reported (for drift)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE batch_positions AS {SQL['batch_positions']}",
        {"after": after, "upto": upto},
    )
    con.execute(SQL["upsert_positions"])
