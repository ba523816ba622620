"""Rebuild touched journeys in DuckDB: the rules of correlator/rules.py, set-wise.

rules.py states the rules one journey at a time and stays their reference; this module applies
the same rules to every touched journey in one pass of SQL (sql/rebuild_journeys.sql), because
the event-by-event Python cost 55 µs per event, a third of the ingest rate (decision 0010).
tests/correlator/test_rebuild_parity.py keeps the two in agreement.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa

from correlator.models import ModelSet
from tower.db import load_queries, split_statements

__all__ = ["model_tables", "rebuild_journeys"]

REBUILD = split_statements(load_queries("correlator")["rebuild_journeys"])
# Scratch tables the SQL leaves: dropped after each rebuild, or they hold memory until the next.
SCRATCH = (
    "rebuild_events",
    "rebuild_visits",
    "rebuild_anomalies",
    "rebuilt_journeys",
    "rebuilt_hops",
)
_MICROSECOND = timedelta(microseconds=1)


def model_tables(models: ModelSet) -> dict[str, pa.Table]:
    """The journey models as small tables: the rebuild SQL joins the first three, the key
    lookup (sql/batch_keys.sql) the dimensions."""
    journeys: dict[str, list[Any]] = {
        "object_type": [],
        "kind": [],
        "label": [],
        "includes": [],
        "at_risk_after": [],
        "done_rank": [],
    }
    stages: dict[str, list[Any]] = {
        "object_type": [],
        "stage": [],
        "rank": [],
        "optional": [],
        "final": [],
        "failed": [],
        "done_at": [],
        "next_within_us": [],
        "next_stage": [],
    }
    event_types: dict[str, list[Any]] = {"object_type": [], "type": [], "stage": []}
    dimensions: dict[str, list[Any]] = {"object_type": [], "namespace": []}
    for model in models:
        for namespace in model.dimensions:
            dimensions["object_type"].append(model.object_type)
            dimensions["namespace"].append(namespace)
        done_ranks = [model.rank(name) for name in model.done_at if model.rank(name) >= 0]
        for column, value in (
            ("object_type", model.object_type),
            ("kind", model.kind),
            ("label", list(model.label)),
            ("includes", list(model.includes)),
            ("at_risk_after", model.at_risk_after),
            ("done_rank", min(done_ranks) if done_ranks else None),
        ):
            journeys[column].append(value)
        for stage in (*model.stages, *model.side_states):
            rank = model.rank(stage.name)
            following = model.stages[rank + 1].name if 0 <= rank < len(model.stages) - 1 else None
            within = stage.next_within
            for column, value in (
                ("object_type", model.object_type),
                ("stage", stage.name),
                ("rank", rank),
                ("optional", stage.optional),
                ("final", stage.final),
                ("failed", stage.failed),
                ("done_at", stage.name in model.done_at),
                ("next_within_us", None if within is None else within // _MICROSECOND),
                ("next_stage", following),
            ):
                stages[column].append(value)
            for event_type in stage.events:
                event_types["object_type"].append(model.object_type)
                event_types["type"].append(event_type)
                event_types["stage"].append(stage.name)
    return {
        "model_journeys": pa.table(
            journeys,
            schema=pa.schema(
                [
                    ("object_type", pa.string()),
                    ("kind", pa.string()),
                    ("label", pa.list_(pa.string())),
                    ("includes", pa.list_(pa.string())),
                    ("at_risk_after", pa.float64()),
                    ("done_rank", pa.int32()),
                ]
            ),
        ),
        "model_stages": pa.table(
            stages,
            schema=pa.schema(
                [
                    ("object_type", pa.string()),
                    ("stage", pa.string()),
                    ("rank", pa.int32()),
                    ("optional", pa.bool_()),
                    ("final", pa.bool_()),
                    ("failed", pa.bool_()),
                    ("done_at", pa.bool_()),
                    ("next_within_us", pa.int64()),
                    ("next_stage", pa.string()),
                ]
            ),
        ),
        "model_event_types": pa.table(
            event_types,
            schema=pa.schema(
                [("object_type", pa.string()), ("type", pa.string()), ("stage", pa.string())]
            ),
        ),
        "model_dimensions": pa.table(
            dimensions, schema=pa.schema([("object_type", pa.string()), ("namespace", pa.string())])
        ),
    }


def rebuild_journeys(con: Any, models: ModelSet, touched: list[int], *, updated_seq: int) -> int:
    """Replace the journeys rows (and their hops) of `touched`; the number of journeys written.

    Runs inside the caller's transaction on `con`. A touched journey with no events of its own
    or of an included journey (only referenced so far) gets no row.
    """
    if not touched:
        return 0
    tables = {"touched": pa.table({"journey_id": pa.array(touched, pa.int64())})}
    tables.update(model_tables(models))
    for name, table in tables.items():
        con.register(name, table)
    try:
        for statement in REBUILD:
            params = {"updated_seq": updated_seq} if "$updated_seq" in statement else None
            con.execute(statement, params)
        written = con.execute("SELECT count(*) FROM rebuilt_journeys").fetchall()[0][0]
        for scratch in SCRATCH:
            con.execute(f"DROP TABLE IF EXISTS {scratch}")
        return int(written)
    finally:
        for name in tables:
            con.unregister(name)
