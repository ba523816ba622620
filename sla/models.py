"""SLA and SLO definitions: the YAML schema (pydantic), loaded once at start.

The shipped file is sla/defaults.yaml; `TOWER_SLA_FILE` replaces it. A file that is not valid
fails the load with its path, line and reason. See docs/sla.md for every field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from sla.calendars import Calendar
from tower.durations import Duration
from tower.model import IDENTIFIER
from tower.yamlfile import ConfigFileError, _line_of, load_yaml_model

__all__ = [
    "SLA_KINDS",
    "BurnWindow",
    "Calendar",
    "Count",
    "CoverageSla",
    "DeadLetterSla",
    "ErrorRateSla",
    "FacilityOutageSla",
    "InventoryDriftSla",
    "InventoryLagSla",
    "QueueDepthSla",
    "JourneyDimension",
    "JourneyErrorsSla",
    "Severity",
    "Sla",
    "SlaFile",
    "Slo",
    "StageDeadlineSla",
    "StalledInStageSla",
    "TowerSla",
    "load_slas",
]

Name = Annotated[str, Field(pattern=IDENTIFIER)]
Severity = Literal["critical", "warning", "info"]
# partner: the EDI trading partner (supplier or customer) named by the journey's events.
JourneyDimension = Literal["facility", "customer", "channel", "partner"]
# How a stall or deadline counts time: every hour, or only the facility's working hours
# (its calendar under `calendars:`; a facility without one counts every hour).
Count = Literal["wall_clock", "working_hours"]


def _as_list(value: Any) -> Any:
    """`customer: ACME` means `customer: [ACME]`."""
    return [value] if isinstance(value, str) else value


Values = Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]
JourneyFilter = dict[JourneyDimension, Values]

# kind -> stage names on the journey model's main line, in order; set while a file loads so
# stage names can be checked against the journey models (and errors keep their line).
_STAGES: ContextVar[dict[str, list[str]] | None] = ContextVar("sla_stages", default=None)


def _by_facility() -> list[JourneyDimension]:
    return ["facility"]


class _Base(BaseModel):
    """Fields every SLA has: its name (the alertname), severity, labels, alert timing."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Name = Field(description="Unique; becomes the alert's `alertname` label.")
    description: str = ""
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict, description="Added to every alert.")
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Added to every alert (runbook_url, ...)."
    )
    for_: Duration = Field(
        timedelta(0),
        alias="for",
        description="How long a breach must hold before its alert fires (pending until then).",
    )
    keep_firing_for: Duration = Field(
        timedelta(0), description="How long a firing alert stays firing after the breach ends."
    )
    min_count: int = Field(1, ge=1, description="Fewest affected items that make a breach.")


class _JourneyBase(_Base):
    journey: Name = Field("order", description="The journey kind (correlator model).")
    match: JourneyFilter = Field(
        default_factory=dict, description="Only journeys whose dimension is one of these."
    )
    exclude: JourneyFilter = Field(
        default_factory=dict, description="Not journeys whose dimension is one of these."
    )
    group_by: list[JourneyDimension] = Field(
        default_factory=_by_facility, description="One breach (and alert) per group."
    )

    def _check_stages(self, *names: str) -> None:
        known = _STAGES.get()
        if known is None:
            return
        if self.journey not in known:
            raise ValueError(f"no journey model {self.journey!r}; known: {sorted(known)}")
        for name in names:
            if name not in known[self.journey]:
                raise ValueError(
                    f"{self.journey} has no stage {name!r}; stages: {known[self.journey]}"
                )


class _Counted(_JourneyBase):
    count: Count = Field(
        "wall_clock",
        description="working_hours: only the journey's facility's working hours count "
        "(`calendars:`); facilities without a calendar count every hour.",
    )


class StageDeadlineSla(_Counted):
    """Journeys that entered `from_stage` must reach `to_stage` (or later) within `within`."""

    kind: Literal["stage_deadline"]
    from_stage: Name
    to_stage: Name
    within: Duration

    @model_validator(mode="after")
    def _stages_exist(self) -> Self:
        self._check_stages(self.from_stage, self.to_stage)
        known = _STAGES.get()
        if known is not None:
            line = known[self.journey]
            if line.index(self.to_stage) <= line.index(self.from_stage):
                raise ValueError(f"to_stage {self.to_stage} must come after {self.from_stage}")
        return self


class StalledInStageSla(_Counted):
    """Open journeys that have sat in `stage` with no progress for `no_progress_for`."""

    kind: Literal["stalled_in_stage"]
    stage: Name
    no_progress_for: Duration

    @model_validator(mode="after")
    def _stage_exists(self) -> Self:
        self._check_stages(self.stage)
        return self


class JourneyErrorsSla(_JourneyBase):
    """Open journeys whose latest event is an error (a failed posting, a dead-lettered message)
    that nothing has put right for `unresolved_for`."""

    kind: Literal["journey_errors"]
    unresolved_for: Duration = timedelta(minutes=15)

    @model_validator(mode="after")
    def _journey_exists(self) -> Self:
        self._check_stages()
        return self


class FacilityOutageSla(_Base):
    """A facility whose systems went quiet: its sources of `systems` have reported nothing for
    `silent_for`, after at least `min_events` in the `baseline` before they stopped (so a
    site that is quiet at night is not an outage)."""

    kind: Literal["facility_outage"]
    systems: Values = Field(default_factory=lambda: ["wms"])
    silent_for: Duration
    baseline: Duration = timedelta(hours=1)
    min_events: int = Field(30, ge=1, description="Fewer events in the baseline: not judged.")
    facilities: Values | None = None


class InventoryLagSla(_Base):
    """The p-th percentile of inventory hop latency per facility over `window` stays under `max`."""

    kind: Literal["inventory_lag"]
    percentile: float = Field(0.95, gt=0, lt=1)
    max: Duration
    window: Duration = timedelta(hours=1)
    min_hops: int = Field(5, ge=1, description="Fewer hops in the window: not judged.")
    facilities: Values | None = None


class InventoryDriftSla(_Base):
    """Positions that disagree by more than `max_units` for longer than `max_age`."""

    kind: Literal["inventory_drift"]
    max_units: float = Field(0, ge=0)
    max_age: Duration
    facilities: Values | None = None


class ErrorRateSla(_Base):
    """The share of a source's events with status error over `window` stays at most `max_ratio`."""

    kind: Literal["error_rate"]
    max_ratio: float = Field(gt=0, le=1)
    window: Duration = timedelta(hours=1)
    min_events: int = Field(20, ge=1, description="Fewer events in the window: not judged.")
    sources: Values | None = None


class CoverageSla(_Base):
    """Correlation coverage (events in multi-system journeys) stays at least `min_ratio`."""

    kind: Literal["coverage"]
    min_ratio: float = Field(gt=0, le=1)
    per_source: bool = Field(False, description="Judge each source instead of the whole.")
    min_events: int = Field(100, ge=1)
    sources: Values | None = None


class QueueDepthSla(_Base):
    """A queue's depth and oldest message age stay under limits (needs queue samples)."""

    kind: Literal["queue_depth"]
    queues: Values | None = None
    max_depth: int | None = Field(None, ge=0)
    max_oldest_age: Duration | None = None


class DeadLetterSla(_Base):
    """A dead-letter queue grows by at most `max_growth` messages over `window`."""

    kind: Literal["dead_letters"]
    queues: Values | None = None
    max_growth: int = Field(0, ge=0)
    window: Duration = timedelta(hours=1)


TowerCheck = Literal["correlator_lag", "job_stale", "receiver_failing", "reject_rate", "disk_full"]


class TowerSla(_Base):
    """The tower's own health (meta-alerts), judged like any SLA: sla/tower_checks.py."""

    kind: Literal["tower"]
    check: TowerCheck
    max_lag: Duration = Field(timedelta(minutes=5), description="correlator_lag: the limit.")
    missed_intervals: int = Field(3, ge=1, description="job_stale: intervals without success.")
    grace: Duration = Field(
        timedelta(minutes=1), description="job_stale: never stale sooner than this."
    )
    jobs: Values | None = Field(None, description="job_stale: only these job ids.")
    window: Duration = Field(
        timedelta(minutes=15), description="receiver_failing, reject_rate: the window."
    )
    max_ratio: float = Field(0.05, gt=0, le=1, description="reject_rate: the limit.")
    min_items: int = Field(100, ge=1, description="reject_rate: fewer items: not judged.")
    min_free_ratio: float = Field(0.1, ge=0, le=1, description="disk_full: the floor.")
    min_free_bytes: int | None = Field(None, ge=0, description="disk_full: also this floor.")

    @model_validator(mode="after")
    def _fields_fit_check(self) -> Self:
        own = {
            "correlator_lag": {"max_lag"},
            "job_stale": {"missed_intervals", "grace", "jobs"},
            "receiver_failing": {"window"},
            "reject_rate": {"window", "max_ratio", "min_items"},
            "disk_full": {"min_free_ratio", "min_free_bytes"},
        }
        every = set().union(*own.values())
        stray = sorted((self.model_fields_set & every) - own[self.check])
        if stray:
            raise ValueError(f"{', '.join(stray)} do not apply to check {self.check}")
        return self


Sla = Annotated[
    StageDeadlineSla
    | StalledInStageSla
    | JourneyErrorsSla
    | FacilityOutageSla
    | InventoryLagSla
    | InventoryDriftSla
    | ErrorRateSla
    | CoverageSla
    | QueueDepthSla
    | DeadLetterSla
    | TowerSla,
    Field(discriminator="kind"),
]
SLA_KINDS = (
    "stage_deadline",
    "stalled_in_stage",
    "journey_errors",
    "facility_outage",
    "inventory_lag",
    "inventory_drift",
    "error_rate",
    "coverage",
    "queue_depth",
    "dead_letters",
    "tower",
)


class BurnWindow(BaseModel):
    """Alert when the burn rate over both `long` and `short` is at least `factor`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    long: Duration
    short: Duration
    factor: float = Field(gt=0)
    severity: Severity = "critical"


# The SRE workbook's multi-window, multi-burn-rate alerts.
DEFAULT_WINDOWS = (
    BurnWindow(long=timedelta(hours=1), short=timedelta(minutes=5), factor=14.4),
    BurnWindow(long=timedelta(hours=6), short=timedelta(minutes=30), factor=6),
    BurnWindow(long=timedelta(days=3), short=timedelta(hours=6), factor=1, severity="warning"),
)


class EventsOkSli(BaseModel):
    """Good: events with status ok. Total: every event (optionally of some sources)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["events_ok"]
    sources: Values | None = None


class HopLatencySli(BaseModel):
    """Good: hops into a stage of a journey kind that took at most `threshold`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["hop_latency"]
    journey: Name = "inventory"
    stages: Values | None = Field(None, description="Hops into these stages only.")
    threshold: Duration


class Slo(BaseModel):
    """A service level objective with multi-window multi-burn-rate alerting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    description: str = ""
    objective: float = Field(gt=0, lt=1, description="e.g. 0.995: 99.5 % of events are good.")
    period: Duration = Field(timedelta(days=30), description="The error budget's period.")
    sli: Annotated[EventsOkSli | HopLatencySli, Field(discriminator="kind")]
    windows: list[BurnWindow] = Field(default_factory=lambda: list(DEFAULT_WINDOWS), min_length=1)
    min_events: int = Field(
        1,
        ge=1,
        description="A window pair whose long window holds fewer SLI events is not judged "
        "(a few slow hops on a quiet or freshly started estate are not a burn).",
    )
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class SlaFile(BaseModel):
    """The whole file: `calendars:`, `slas:` and `slos:`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendars: dict[str, Calendar] = Field(
        default_factory=dict,
        description="Facility code -> its working hours, for SLAs with count: working_hours.",
    )
    slas: list[Sla] = Field(default_factory=list)
    slos: list[Slo] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [s.name for s in self.slas] + [s.name for s in self.slos]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"SLA and SLO names must be unique: {repeated}")
        return self

    def get(self, name: str) -> Any:
        """The SLA or SLO of that name, or None."""
        return next((s for s in (*self.slas, *self.slos) if s.name == name), None)


def default_path() -> Path:
    """The shipped definitions for the demo estate."""
    return Path(str(resources.files("sla").joinpath("defaults.yaml")))


@contextmanager
def _stages(stages: dict[str, list[str]] | None) -> Iterator[None]:
    token = _STAGES.set(stages)
    try:
        yield
    finally:
        _STAGES.reset(token)


def load_slas(path: Path | None = None, *, stages: dict[str, list[str]] | None = None) -> SlaFile:
    """Load and validate an SLA file (default: the shipped one); raises ConfigFileError.

    `stages` (journey kind -> its main-line stage names) lets stage names be checked.
    """
    path = path or default_path()
    with _stages(stages):
        try:
            loaded = load_yaml_model(path, SlaFile)
        except ConfigFileError as exc:
            raise _without_tags(exc) from exc.__cause__
    _check_counts(path, loaded)
    return loaded


def _check_counts(path: Path, loaded: SlaFile) -> None:
    """Working hours with no calendar to count them by is a mistake, not wall-clock time."""
    if loaded.calendars:
        return
    for i, sla in enumerate(loaded.slas):
        if getattr(sla, "count", "wall_clock") == "working_hours":
            node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
            raise ConfigFileError(
                path,
                _line_of(node, ("slas", i, "count")),
                f"slas.{i}.count: {sla.name} counts working hours but the file has no "
                "`calendars:` (facility -> zone and hours)",
            )


TAGS = {*SLA_KINDS, "events_ok", "hop_latency"}


def _without_tags(exc: ConfigFileError) -> ConfigFileError:
    """Point past the union tag pydantic puts in an error's location (slas.0.<kind>.field)."""
    cause = exc.__cause__
    if not isinstance(cause, ValidationError):
        return exc
    first = cause.errors()[0]
    loc = tuple(part for part in first["loc"] if part not in TAGS)
    if loc == tuple(first["loc"]):
        return exc
    node = yaml.compose(exc.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    where = ".".join(str(part) for part in loc)
    return ConfigFileError(exc.path, _line_of(node, loc), f"{where}: {first['msg']}")
