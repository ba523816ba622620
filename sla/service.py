"""Reads for SLA evaluation (aggregated in DuckDB) and the stored state of the last evaluation."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa

from correlator import service as correlator_service
from sla import tower_checks
from sla.calendars import Calendar, cutoff
from sla.inputs import (
    CoverageRow,
    DriftGroup,
    ErrorCounts,
    JourneyGroup,
    LagGroup,
    QueueGrowth,
    QueueState,
    Row,
    SilenceGroup,
    SlaInputs,
    WindowCounts,
)
from sla.models import (
    CoverageSla,
    DeadLetterSla,
    ErrorRateSla,
    FacilityOutageSla,
    InventoryDriftSla,
    InventoryLagSla,
    JourneyDimension,
    JourneyErrorsSla,
    QueueDepthSla,
    Sla,
    SlaFile,
    StageDeadlineSla,
    StalledInStageSla,
    TowerSla,
)
from sla.rules import Evaluation
from sla.slo import windows_of
from tower.db import Store, load_queries

__all__ = ["read_inputs", "record_evaluation", "sla_state"]

log = logging.getLogger(__name__)
SQL = load_queries("sla")
# Each journey SLA kind picks its breaching journeys; one query groups them for all three.
GROUPED = {
    kind: SQL["breaching_groups"].replace("{found}", SQL[kind])
    for kind in ("stage_deadline", "stalled_in_stage", "journey_errors")
}
LANE = "alerts"
DIMENSIONS: tuple[JourneyDimension, ...] = ("facility", "customer", "channel", "partner")
OUTAGE_LOOKBACK = timedelta(days=7)
QUEUE_KINDS = (QueueDepthSla, DeadLetterSla)


def read_inputs(
    *, store: Store, definitions: SlaFile, stages: dict[str, list[str]], now: datetime
) -> SlaInputs:
    """Everything evaluate() needs at `now`: one small aggregate per SLA and SLO window."""
    inputs = SlaInputs()
    queues = bool(store.scalar(SQL["has_queue_samples"], doing="looking for queue samples"))
    for sla in definitions.slas:
        if isinstance(sla, QUEUE_KINDS) and not queues:
            inputs.skipped[sla.name] = "no queue samples yet (no poller or producer has sent one)"
            continue
        inputs.rows[sla.name] = _read(store, sla, definitions, stages, now)
    for slo in definitions.slos:
        lengths = windows_of(slo)
        params: dict[str, Any] = {"now": now, "windows": [w.total_seconds() for w in lengths]}
        if slo.sli.kind == "events_ok":
            sql = SQL["slo_events_ok"]
            params["sources"] = slo.sli.sources
        else:
            sql = SQL["slo_hop_latency"]
            params |= {
                "kind": slo.sli.journey,
                "stages": slo.sli.stages,
                "threshold": slo.sli.threshold.total_seconds(),
            }
        rows = store.query(sql, params, doing=f"counting SLI events of {slo.name}")
        inputs.slo_counts[slo.name] = {
            timedelta(seconds=r["seconds"]): WindowCounts(int(r["good"]), int(r["total"]))
            for r in rows
        }
    return inputs


def _read(
    store: Store, sla: Sla, definitions: SlaFile, stages: dict[str, list[str]], now: datetime
) -> list[Row]:
    doing = f"reading the data of SLA {sla.name}"
    if isinstance(sla, TowerSla):  # meta-alerts: the tower's own figures
        return list(tower_checks.read(store=store, sla=sla, now=now))
    if isinstance(sla, StageDeadlineSla | StalledInStageSla | JourneyErrorsSla):
        params = _journey_params(sla)
        if isinstance(sla, StageDeadlineSla):
            line = stages.get(sla.journey, [])
            later = line[line.index(sla.to_stage) :] if sla.to_stage in line else [sla.to_stage]
            params |= {"from_stage": sla.from_stage, "later": later}
            params |= _cutoffs(sla, definitions.calendars, now, sla.within)
        elif isinstance(sla, StalledInStageSla):
            params |= {"stage": sla.stage}
            params |= _cutoffs(sla, definitions.calendars, now, sla.no_progress_for)
        else:
            params |= {"cutoff": now - sla.unresolved_for}
        rows = store.query(GROUPED[sla.kind], params, doing=doing)
        return [JourneyGroup(**r) for r in rows]
    if isinstance(sla, FacilityOutageSla):
        params = {
            "now": now,
            "systems": sla.systems,
            "baseline": sla.baseline.total_seconds(),
            "lookback": (OUTAGE_LOOKBACK + sla.baseline).total_seconds(),
            "facilities": sla.facilities,
        }
        rows = store.query(SQL["facility_outage"], params, doing=doing)
        return [SilenceGroup(**r) for r in rows]
    if isinstance(sla, InventoryLagSla):
        params = {
            "now": now,
            "since": now - sla.window,
            "percentile": sla.percentile,
            "facilities": sla.facilities,
        }
        return [LagGroup(**r) for r in store.query(SQL["inventory_lag"], params, doing=doing)]
    if isinstance(sla, InventoryDriftSla):
        params = {
            "max_units": sla.max_units,
            "cutoff": now - sla.max_age,
            "facilities": sla.facilities,
        }
        return [DriftGroup(**r) for r in store.query(SQL["inventory_drift"], params, doing=doing)]
    if isinstance(sla, ErrorRateSla):
        params = {"now": now, "since": now - sla.window, "sources": sla.sources}
        return [ErrorCounts(**r) for r in store.query(SQL["error_rate"], params, doing=doing)]
    if isinstance(sla, CoverageSla):
        per_source = [
            r
            for r in correlator_service.coverage(store=store)
            if sla.sources is None or r["source"] in sla.sources
        ]
        if sla.per_source:
            return [CoverageRow(r["source"], r["events"], r["multi_system"]) for r in per_source]
        return [
            CoverageRow(
                None,
                sum(r["events"] for r in per_source),
                sum(r["multi_system"] for r in per_source),
            )
        ]
    if isinstance(sla, QueueDepthSla):
        rows = store.query(SQL["queue_depth"], {"now": now, "queues": sla.queues}, doing=doing)
        return [QueueState(r["queue"], int(r["depth"]), r["oldest_age_seconds"]) for r in rows]
    params = {"now": now, "since": now - sla.window, "queues": sla.queues}
    rows = store.query(SQL["dead_letters"], params, doing=doing)
    return [QueueGrowth(r["queue"], int(r["growth"] or 0), int(r["depth"])) for r in rows]


def _cutoffs(
    sla: StageDeadlineSla | StalledInStageSla,
    calendars: dict[str, Calendar],
    now: datetime,
    limit: timedelta,
) -> dict[str, Any]:
    """The wall-clock cutoff, and where the SLA counts working hours each calendar's own: one
    small loop per facility here keeps the SQL a comparison, whatever the journey count."""
    own = {}
    if sla.count == "working_hours":
        own = {facility: cutoff(calendar, now, limit) for facility, calendar in calendars.items()}
    wall = now - limit
    return {
        "cutoff": wall,
        "cal_facilities": list(own),
        "cal_cutoffs": list(own.values()),
        "latest": max([wall, *own.values()]),
    }


def _journey_params(sla: StageDeadlineSla | StalledInStageSla | JourneyErrorsSla) -> dict[str, Any]:
    params: dict[str, Any] = {
        "kind": sla.journey,
        "need_partner": "partner" in sla.group_by
        or "partner" in sla.match
        or "partner" in sla.exclude,
    }
    for dim in DIMENSIONS:
        params[f"by_{dim}"] = dim in sla.group_by
        params[f"m_{dim}"] = sla.match.get(dim)
        params[f"x_{dim}"] = sla.exclude.get(dim)
    return params


STATUS_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("kind", pa.string()),
        ("evaluated_at", pa.timestamp("us", tz="UTC")),
        ("breaches", pa.int32()),
        ("skipped", pa.string()),
        ("detail", pa.string()),
    ]
)


def record_evaluation(*, store: Store, evaluation: Evaluation) -> None:
    """Replace the stored state of every SLA and SLO with this evaluation's."""
    slos = {s.name: s for s in evaluation.slos}
    rows = []
    for result in evaluation.results:
        # orjson writes dataclasses itself, far faster than asdict's deep copies.
        detail: Any = result.breaches
        if result.name in slos:
            detail = {"status": slos[result.name], "breaches": detail}
        rows.append(
            {
                "name": result.name,
                "kind": result.kind,
                "evaluated_at": evaluation.at,
                "breaches": len(result.breaches),
                "skipped": result.skipped,
                "detail": orjson.dumps(detail, default=_jsonable).decode(),
            }
        )
    table = pa.Table.from_pylist(rows, schema=STATUS_SCHEMA)
    with store.transaction(doing="recording the SLA evaluation", lane=LANE) as con:
        con.execute("DELETE FROM sla_status")
        con.register("evaluated", table)
        try:
            con.execute("INSERT INTO sla_status SELECT * FROM evaluated")
        finally:
            con.unregister("evaluated")


def sla_state(*, store: Store) -> list[dict[str, Any]]:
    """The last evaluation of every SLA and SLO, as stored."""
    rows = store.query(
        "SELECT * FROM sla_status ORDER BY breaches DESC, name", doing="reading SLA state"
    )
    for row in rows:
        row["detail"] = orjson.loads(row["detail"])
    return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot encode {type(value).__name__}")
