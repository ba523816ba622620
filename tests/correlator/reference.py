"""What `journeys` and `journey_hops` should hold, by correlator/rules.py, one journey at a time.

The reference the set-wise rebuild (correlator/sql/rebuild_journeys.sql) is checked against: it
reads each journey's aliases and timeline the way the API does and applies `build_journey`.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import orjson

from correlator.models import ModelSet
from correlator.rules import JourneyEvent, JourneyState, build_journey
from tower.db import Store, load_queries

SQL = load_queries("correlator")
RULE_ATTRIBUTES = ("customer", "channel", "value", "currency")


def expected(store: Store, models: ModelSet) -> tuple[dict[int, dict[str, Any]], list[tuple]]:
    """Journey rows by id, and the sorted hop rows, as the rules say they should be."""
    aliases: dict[int, dict[str, list[str]]] = {}
    object_types: dict[int, str] = {}
    for row in store.query(
        "SELECT journey_id, object_type, namespace, value FROM identity"
        " ORDER BY journey_id, namespace, value",
        doing="reading identity",
    ):
        aliases.setdefault(row["journey_id"], {}).setdefault(row["namespace"], []).append(
            row["value"]
        )
        object_types[row["journey_id"]] = row["object_type"]
    journeys: dict[int, dict[str, Any]] = {}
    hops: list[tuple] = []
    for journey_id, object_type in object_types.items():
        model = models.for_object_type(object_type)
        included = set(model.includes) if model else set()
        members = [
            _event(r)
            for r in store.query(
                SQL["journey_events"], {"journey_id": journey_id}, doing="reading a timeline"
            )
            if r["via"] is None or r["object_type"] in included
        ]
        if not members:
            continue  # only referenced so far
        state = build_journey(model, members)
        kind = model.kind if model else object_type
        journeys[journey_id] = _row(
            journey_id, kind, model.label if model else [], aliases[journey_id], state, members
        )
        hops += [
            (
                journey_id,
                kind,
                state.facility,
                v.from_stage,
                v.stage,
                v.from_system,
                v.system,
                v.entered_at,
                v.latency_seconds,
            )
            for v in state.history
        ]
    return journeys, sorted(hops, key=_hop_key)


def stored(store: Store) -> tuple[dict[int, dict[str, Any]], list[tuple]]:
    """What the correlator wrote, in the same shape as `expected`."""
    journeys = {}
    for row in store.query("SELECT * FROM journeys", doing="reading journeys"):
        row.pop("updated_seq")
        for column in ("keys", "history", "anomalies"):
            row[column] = orjson.loads(row[column])
        journeys[row["journey_id"]] = row
    hops = [
        tuple(r.values()) for r in store.query("SELECT * FROM journey_hops", doing="reading hops")
    ]
    return journeys, sorted(hops, key=_hop_key)


def _hop_key(hop: tuple) -> tuple:
    return (hop[0], hop[7], hop[4])


def _event(row: dict[str, Any]) -> JourneyEvent:
    attributes = orjson.loads(row["attributes"])
    return JourneyEvent(
        seq=row["seq"],
        event_id=row["event_id"],
        occurred_at=row["occurred_at"].astimezone(UTC),
        source=row["source"],
        system=row["system"],
        type=row["type"],
        object_type=row["object_type"],
        status=row["status"],
        error=row["error"],
        facility=row["facility"],
        # the rules read these attributes as text, the way the SQL extracts them
        attributes={
            n: _text(attributes[n]) for n in RULE_ATTRIBUTES if attributes.get(n) is not None
        },
        via=row["via"],
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _row(
    journey_id: int,
    kind: str,
    preferred: list[str],
    aliases: dict[str, list[str]],
    state: JourneyState,
    members: list[JourneyEvent],
) -> dict[str, Any]:
    namespace = next(n for n in (*preferred, *sorted(aliases)) if n in aliases)
    return {
        "journey_id": journey_id,
        "kind": kind,
        "label": f"{namespace}:{aliases[namespace][0]}",
        "keys": aliases,
        "stage": state.stage,
        "stage_entered_at": state.stage_entered_at,
        "started_at": state.started_at,
        "last_event_at": state.last_event_at,
        "state": state.state,
        "next_stage": state.next_stage,
        "next_due_at": state.next_due_at,
        "at_risk_at": state.at_risk_at,
        "error_open": state.error_open,
        "facility": state.facility,
        "customer": state.customer,
        "channel": state.channel,
        "value": state.value,
        "currency": state.currency,
        "systems": state.systems,
        "sources": sorted({e.source for e in members}),
        "event_count": state.event_count,
        "anomaly_count": len(state.anomalies),
        "anomaly_kinds": sorted({a.kind for a in state.anomalies}),
        "history": orjson.loads(orjson.dumps(state.history)),
        "anomalies": orjson.loads(orjson.dumps(state.anomalies)),
    }
