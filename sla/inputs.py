"""What evaluation reads: small typed rows, already aggregated in DuckDB (see sla/service.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sla.tower_checks import TowerRow

__all__ = [
    "CoverageRow",
    "DriftGroup",
    "ErrorCounts",
    "JourneyGroup",
    "LagGroup",
    "QueueGrowth",
    "QueueState",
    "Row",
    "SilenceGroup",
    "SlaInputs",
    "WindowCounts",
]


@dataclass(frozen=True, slots=True)
class JourneyGroup:
    """Journeys past a deadline (or stuck in a stage), one group of the SLA's group_by."""

    facility: str | None
    customer: str | None
    channel: str | None
    partner: str | None
    affected: int
    amount: float | None
    currency: str | None
    oldest: datetime
    sample: list[str]
    stages: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SilenceGroup:
    """When a facility's sources last reported, and how busy they were before that."""

    facility: str
    last_at: datetime
    baseline_events: int
    sources: list[str]


@dataclass(frozen=True, slots=True)
class LagGroup:
    facility: str | None
    hops: int
    p_seconds: float
    max_seconds: float
    worst_hop: str


@dataclass(frozen=True, slots=True)
class DriftGroup:
    facility: str
    skus: int
    max_drift: float
    oldest: datetime
    sample: list[str]


@dataclass(frozen=True, slots=True)
class ErrorCounts:
    source: str
    events: int
    errors: int


@dataclass(frozen=True, slots=True)
class CoverageRow:
    source: str | None  # None: the whole estate
    events: int
    multi_system: int


@dataclass(frozen=True, slots=True)
class QueueState:
    queue: str
    depth: int
    oldest_age_seconds: float | None


@dataclass(frozen=True, slots=True)
class QueueGrowth:
    queue: str
    growth: int
    depth: int


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Good and total SLI events in one window."""

    good: int
    total: int


Row = (
    JourneyGroup
    | SilenceGroup
    | LagGroup
    | DriftGroup
    | ErrorCounts
    | CoverageRow
    | QueueState
    | QueueGrowth
    | TowerRow
)


@dataclass(slots=True)
class SlaInputs:
    """Everything one evaluation needs, read at one `now`."""

    rows: dict[str, list[Row]] = field(default_factory=dict)  # SLA name -> its rows
    skipped: dict[str, str] = field(default_factory=dict)  # SLA name -> why not judged
    slo_counts: dict[str, dict[timedelta, WindowCounts]] = field(default_factory=dict)
