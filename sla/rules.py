"""Evaluation: a pure function of (definitions, inputs, now) -> breaches and SLO status.

No I/O and no clock of its own. The inputs are already cut at the SLA's threshold where that
needs the whole table (sla/service.py); here each row is judged, described and labelled.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sla import tower_checks
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
)
from sla.models import (
    CoverageSla,
    DeadLetterSla,
    ErrorRateSla,
    FacilityOutageSla,
    InventoryDriftSla,
    InventoryLagSla,
    JourneyErrorsSla,
    QueueDepthSla,
    Sla,
    SlaFile,
    StageDeadlineSla,
    StalledInStageSla,
    TowerSla,
)
from sla.slo import SloStatus, evaluate_slo
from sla.tower_checks import TowerRow
from tower.durations import format_duration

__all__ = ["Breach", "Evaluation", "SlaResult", "evaluate", "money"]

SEARCH = "/api/v1/journeys/search"
NOUNS = {"inventory": "inventory changes", "order": "orders", "purchase_order": "purchase orders"}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True, slots=True)
class Breach:
    """One SLA (or SLO window) broken for one group: what the alert will say."""

    name: str
    kind: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    summary: str
    value: float
    threshold: float
    affected: int | None = None
    amount: float | None = None
    currency: str | None = None
    sample: list[str] = field(default_factory=list)
    link: str | None = None
    for_: timedelta = timedelta(0)
    keep_firing_for: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class SlaResult:
    name: str
    kind: str
    breaches: list[Breach]
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    at: datetime
    results: list[SlaResult]
    slos: list[SloStatus]

    @property
    def breaches(self) -> list[Breach]:
        return [b for r in self.results for b in r.breaches]


def evaluate(definitions: SlaFile, inputs: SlaInputs, *, now: datetime) -> Evaluation:
    """Judge every SLA and SLO once at `now`."""
    results = []
    for sla in definitions.slas:
        if sla.name in inputs.skipped:
            results.append(SlaResult(sla.name, sla.kind, [], inputs.skipped[sla.name]))
            continue
        rows = inputs.rows.get(sla.name, [])
        breaches = [b for row in rows if (b := _judge(sla, row, now)) is not None]
        results.append(SlaResult(sla.name, sla.kind, breaches))
    statuses = []
    for slo in definitions.slos:
        status = evaluate_slo(slo, inputs.slo_counts.get(slo.name, {}))
        statuses.append(status)
        breaches = []
        for window in status.firing:
            pair = f"{format_duration(window.long)}/{format_duration(window.short)}"
            breaches.append(
                Breach(
                    name=slo.name,
                    kind="slo",
                    severity=window.severity,
                    labels=_clean(
                        {
                            **slo.labels,
                            "alertname": slo.name,
                            "severity": window.severity,
                            "sla_kind": "slo",
                            "burn_window": pair,
                        }
                    ),
                    annotations=dict(slo.annotations),
                    summary=f"{slo.name} burns its error budget {window.long_burn:.1f}x over "
                    f"{format_duration(window.long)} and {window.short_burn:.1f}x over "
                    f"{format_duration(window.short)} (alert at {window.factor:g}x); "
                    f"{_percent(status.budget_remaining)} of the budget left",
                    value=float(window.long_burn or 0.0),
                    threshold=window.factor,
                )
            )
        results.append(SlaResult(slo.name, "slo", breaches))
    return Evaluation(at=now, results=results, slos=statuses)


def _judge(sla: Sla, row: Row, now: datetime) -> Breach | None:
    if isinstance(sla, TowerSla) and isinstance(row, TowerRow):  # meta-alerts
        return tower_checks.judge(sla, row)
    match sla, row:
        case StageDeadlineSla() | StalledInStageSla() | JourneyErrorsSla(), JourneyGroup():
            return _journeys(sla, row, now)
        case FacilityOutageSla(), SilenceGroup():
            return _outage(sla, row, now)
        case InventoryLagSla(), LagGroup():
            return _lag(sla, row)
        case InventoryDriftSla(), DriftGroup():
            return _drift(sla, row, now)
        case ErrorRateSla(), ErrorCounts():
            return _errors(sla, row)
        case CoverageSla(), CoverageRow():
            return _coverage(sla, row)
        case QueueDepthSla(), QueueState():
            return _queue(sla, row)
        case DeadLetterSla(), QueueGrowth():
            return _dead_letters(sla, row)
    raise TypeError(f"{sla.kind} cannot judge {type(row).__name__}")


def _journeys(
    sla: StageDeadlineSla | StalledInStageSla | JourneyErrorsSla, row: JourneyGroup, now: datetime
) -> Breach | None:
    if row.affected < sla.min_count:
        return None
    dims: dict[str, Any] = {d: getattr(row, d) for d in sla.group_by if getattr(row, d) is not None}
    noun = NOUNS.get(sla.journey, f"{sla.journey.replace('_', ' ')} journeys")
    worth = f" worth {money(row.amount, row.currency)}" if row.amount and row.currency else ""
    where = "".join(f" {'at' if d == 'facility' else 'for'} {v}" for d, v in dims.items())
    oldest = format_duration(now - row.oldest)
    # The oldest is wall-clock time; say when the limit counts working hours only.
    working = " of working hours" if getattr(sla, "count", None) == "working_hours" else ""
    if isinstance(sla, StageDeadlineSla):
        limit = sla.within
        what = (
            f"{sla.from_stage} but not {sla.to_stage} within {format_duration(limit)}{working}"
            f"{where} (oldest {oldest})"
        )
        stages = row.stages or [sla.from_stage]
    elif isinstance(sla, StalledInStageSla):
        limit = sla.no_progress_for
        what = (
            f"stalled in {sla.stage}{where} for > {format_duration(limit)}{working}"
            f" (oldest {oldest})"
        )
        stages = [sla.stage]
    else:
        limit = sla.unresolved_for
        what = f"in error{where} for > {format_duration(limit)} (oldest {oldest})"
        stages = []
    return _breach(
        sla,
        dims,
        summary=f"{row.affected} {noun}{worth} {what}",
        value=float(row.affected),
        threshold=float(sla.min_count),
        affected=row.affected,
        amount=row.amount,
        currency=row.currency,
        sample=row.sample,
        link=_search_link(sla, dims, stages),
        extra={"oldest_for": oldest},
    )


def _outage(sla: FacilityOutageSla, row: SilenceGroup, now: datetime) -> Breach | None:
    silent = now - row.last_at
    if silent <= sla.silent_for or row.baseline_events < sla.min_events:
        return None
    return _breach(
        sla,
        {"facility": row.facility},
        summary=f"{row.facility} has reported nothing for {format_duration(silent)} "
        f"({', '.join(row.sources)}; {row.baseline_events} events in the "
        f"{format_duration(sla.baseline)} before; limit {format_duration(sla.silent_for)})",
        value=silent.total_seconds(),
        threshold=sla.silent_for.total_seconds(),
        link=f"/api/v1/events?{urlencode({'facility': row.facility})}",
    )


def _lag(sla: InventoryLagSla, row: LagGroup) -> Breach | None:
    limit = sla.max.total_seconds()
    if row.hops < sla.min_hops or row.p_seconds <= limit:
        return None
    pct = f"p{round(sla.percentile * 100):d}"
    return _breach(
        sla,
        {"facility": row.facility or "unknown"},
        summary=f"inventory hop lag {pct} at {row.facility} is "
        f"{format_duration(timedelta(seconds=row.p_seconds))} (limit {format_duration(sla.max)}) "
        f"over {row.hops} hops in {format_duration(sla.window)}; worst {row.worst_hop} "
        f"{format_duration(timedelta(seconds=row.max_seconds))}",
        value=row.p_seconds,
        threshold=limit,
        affected=row.hops,
    )


def _drift(sla: InventoryDriftSla, row: DriftGroup, now: datetime) -> Breach | None:
    if row.skus < sla.min_count:
        return None
    return _breach(
        sla,
        {"facility": row.facility},
        summary=f"{row.skus} SKUs at {row.facility} disagree between systems by up to "
        f"{row.max_drift:g} units for > {format_duration(sla.max_age)} "
        f"(oldest {format_duration(now - row.oldest)}): {', '.join(row.sample)}",
        value=row.max_drift,
        threshold=sla.max_units,
        affected=row.skus,
        sample=row.sample,
    )


def _errors(sla: ErrorRateSla, row: ErrorCounts) -> Breach | None:
    if row.events < sla.min_events:
        return None
    ratio = row.errors / row.events
    if ratio <= sla.max_ratio:
        return None
    return _breach(
        sla,
        {"source": row.source},
        summary=f"{row.source}: {_percent(ratio)} of {row.events} events in "
        f"{format_duration(sla.window)} are errors (limit {_percent(sla.max_ratio)})",
        value=ratio,
        threshold=sla.max_ratio,
        affected=row.errors,
        link=f"/api/v1/events?{urlencode({'source': row.source, 'status': 'error'})}",
    )


def _coverage(sla: CoverageSla, row: CoverageRow) -> Breach | None:
    if row.events < sla.min_events:
        return None
    ratio = row.multi_system / row.events
    if ratio >= sla.min_ratio:
        return None
    whose = f"{row.source}: " if row.source else ""
    return _breach(
        sla,
        {"source": row.source} if row.source else {},
        summary=f"{whose}correlation coverage {_percent(ratio)} of {row.events} events "
        f"(floor {_percent(sla.min_ratio)})",
        value=ratio,
        threshold=sla.min_ratio,
        affected=row.events - row.multi_system,
        link="/api/v1/correlation/coverage",
    )


def _queue(sla: QueueDepthSla, row: QueueState) -> Breach | None:
    too_deep = sla.max_depth is not None and row.depth > sla.max_depth
    limit_age = sla.max_oldest_age.total_seconds() if sla.max_oldest_age else None
    age = row.oldest_age_seconds
    too_old = limit_age is not None and age is not None and age > limit_age
    if not (too_deep or too_old):
        return None
    parts = [f"queue {row.queue} holds {row.depth} messages"]
    if sla.max_depth is not None:
        parts[0] += f" (limit {sla.max_depth})"
    if age is not None:
        parts.append(f"oldest {format_duration(timedelta(seconds=age))}")
    return _breach(
        sla,
        {"queue": row.queue},
        summary=", ".join(parts),
        value=float(row.depth),
        threshold=float(sla.max_depth if sla.max_depth is not None else 0),
        affected=row.depth,
    )


def _dead_letters(sla: DeadLetterSla, row: QueueGrowth) -> Breach | None:
    if row.growth <= sla.max_growth:
        return None
    return _breach(
        sla,
        {"queue": row.queue},
        summary=f"dead-letter queue {row.queue} grew by {row.growth} in "
        f"{format_duration(sla.window)} to {row.depth} (limit {sla.max_growth})",
        value=float(row.growth),
        threshold=float(sla.max_growth),
        affected=row.growth,
    )


def _breach(
    sla: Sla,
    dims: dict[str, Any],
    *,
    summary: str,
    value: float,
    threshold: float,
    affected: int | None = None,
    amount: float | None = None,
    currency: str | None = None,
    sample: list[str] | None = None,
    link: str | None = None,
    extra: dict[str, str] | None = None,
) -> Breach:
    labels = {
        **sla.labels,
        **{k: str(v) for k, v in dims.items()},
        "alertname": sla.name,
        "severity": sla.severity,
        "sla_kind": sla.kind,
    }
    annotations = {**sla.annotations, **(extra or {})}
    if sla.description:
        annotations.setdefault("description", sla.description)
    return Breach(
        name=sla.name,
        kind=sla.kind,
        severity=sla.severity,
        labels=_clean(labels),
        annotations=annotations,
        summary=summary,
        value=value,
        threshold=threshold,
        affected=affected,
        amount=amount,
        currency=currency,
        sample=list(sample or []),
        link=link,
        for_=sla.for_,
        keep_firing_for=sla.keep_firing_for,
    )


def _search_link(
    sla: StageDeadlineSla | StalledInStageSla | JourneyErrorsSla,
    dims: dict[str, Any],
    stages: list[str],
) -> str:
    """A journey search that lists the affected journeys (a superset where filters can't say)."""
    terms = [f"kind:{sla.journey}"]
    # The search has no partner field: leaving it out lists a superset.
    terms += [f"{d}:{v}" for d, v in dims.items() if d != "partner"]
    for dim, values in sla.match.items():
        if dim not in dims and dim != "partner" and len(values) == 1:
            terms.append(f"{dim}:{values[0]}")
    for dim, values in sla.exclude.items():
        if dim != "partner":
            terms += [f"-{dim}:{v}" for v in values]
    if isinstance(sla, JourneyErrorsSla):
        terms.append("anomaly:error")
    quoted = " ".join(shlex.quote(t) for t in terms)
    query = " OR ".join(f"{quoted} stage:{shlex.quote(s)}" for s in stages) or quoted
    return f"{SEARCH}?{urlencode({'q': query})}"


def money(amount: float | None, currency: str | None) -> str:
    """$182k, €1.2M, 950 CHF."""
    if amount is None:
        return ""
    if abs(amount) >= 1e6:
        figure = f"{amount / 1e6:.1f}M"
    elif abs(amount) >= 1e4:
        figure = f"{amount / 1e3:.0f}k"
    elif abs(amount) >= 1e3:
        figure = f"{amount / 1e3:.1f}k"
    else:
        figure = f"{amount:.0f}"
    symbol = SYMBOLS.get(currency or "")
    return f"{symbol}{figure}" if symbol else f"{figure} {currency}".strip()


def _percent(ratio: float | None) -> str:
    if ratio is None:
        return "?"
    return f"{ratio * 100:.3g}%" if abs(ratio) < 10 else f"{ratio * 100:,.0f}%"


def _clean(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(labels.items()) if v != ""}
