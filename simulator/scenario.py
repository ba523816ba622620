"""Scenario files: how busy the estate is and which faults to inject, as validated YAML.

Times in a scenario are relative to the run's "now", the moment backfill ends and live begins:
`start: -6h` is six hours before it (inside the backfilled history), `start: 15m` is fifteen
minutes into the live run. Durations read like `90m`, `1d6h`, `45s`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from simulator.estate import EMITTED_TYPES, default_estate
from tower.yamlfile import ConfigFileError, load_yaml_model

__all__ = [
    "ClockSkew",
    "ConfigFileError",
    "DeadLetter",
    "DuplicateDelivery",
    "ErpPostingError",
    "Fault",
    "InventoryDrift",
    "LostMessage",
    "OutOfOrder",
    "QueueBacklog",
    "Scenario",
    "SlowAcknowledgement",
    "Telemetry",
    "Volume",
    "WarehouseOutage",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "shipped_scenario",
]

_DURATION = re.compile(r"^([+-])?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(value: object) -> timedelta:
    """`90m`, `-6h`, `1d2h30m`, `45s`, or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip()
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()[1:]):
        raise ValueError(f"not a duration: {value!r} (write e.g. 90m, -6h, 1d2h, 45s)")
    sign, days, hours, minutes, seconds = match.groups()
    total = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -total if sign == "-" else total


def format_duration(value: timedelta) -> str:
    """The form a scenario file uses: `-20h`, `1h30m`, `45s`."""
    seconds = value.total_seconds()
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{int(n)}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    if secs or not parts:
        parts.append(f"{secs:g}s")
    return sign + "".join(parts)


_AS_TEXT = PlainSerializer(format_duration, return_type=str)
Offset = Annotated[timedelta, BeforeValidator(parse_duration), _AS_TEXT]
Duration = Annotated[timedelta, BeforeValidator(parse_duration), Field(gt=timedelta(0)), _AS_TEXT]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[
    timedelta, BeforeValidator(parse_duration), Field(ge=timedelta(0)), _AS_TEXT
]

_ESTATE = default_estate()


def _known(kind: str, value: str, known: tuple[str, ...]) -> str:
    if value not in known:
        raise ValueError(f"unknown {kind} {value!r}; the estate has: {', '.join(known)}")
    return value


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    name: str | None = Field(
        default=None, description="Label in the ground truth; the kind when unset."
    )
    start: Offset | None = Field(default=None, description="Window start, relative to now.")
    duration: Duration | None = Field(
        default=None, description="Window length; open-ended when unset."
    )

    @property
    def label(self) -> str:
        return self.name or self.kind

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The absolute window this fault is active in; None on a side means unbounded."""
        begin = None if self.start is None else now + self.start
        if self.duration is None:
            return begin, None
        return begin, (begin or now) + self.duration


class _TypeFilter(_Fault):
    types: list[str] | None = Field(
        default=None, description="Event types it may hit; any when unset."
    )

    @field_validator("types")
    @classmethod
    def _types_are_emitted(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            _known("event type", item, EMITTED_TYPES)
        return value


class WarehouseOutage(_Fault):
    """A WMS interface is down: its events are held, then released when it comes back."""

    kind: Literal["warehouse_outage"]
    facility: str
    start: Offset
    duration: Duration

    @field_validator("facility")
    @classmethod
    def _facility_exists(cls, value: str) -> str:
        return _known("facility", value, _ESTATE.facility_codes)


class DuplicateDelivery(_TypeFilter):
    """An interface re-sends events it already delivered (same event_id)."""

    kind: Literal["duplicate_delivery"]
    rate: Rate


class OutOfOrder(_TypeFilter):
    """An event arrives after the journey's next step."""

    kind: Literal["out_of_order"]
    rate: Rate


class LostMessage(_TypeFilter):
    """A stage's event never reaches the tower, though the work happened."""

    kind: Literal["lost_message"]
    rate: Rate


class ErpPostingError(_TypeFilter):
    """The ERP fails to post a document (status error); it succeeds on retry, or never."""

    kind: Literal["erp_posting_error"]
    rate: Rate
    types: list[str] | None = ["order.accepted", "invoice.posted", "inventory.posted"]
    retry_after: Duration | None = Field(
        default=timedelta(minutes=30), description="When the retry posts it; never when null."
    )


class SlowAcknowledgement(_TypeFilter):
    """A trading partner acknowledges late (the 855 by default); later steps wait for it."""

    kind: Literal["slow_acknowledgement"]
    partner: str | None = Field(
        default=None, description="EDI partner id; every partner when unset."
    )
    types: list[str] | None = ["edi.855.received"]
    delay: Duration
    rate: Rate = 1.0

    @field_validator("partner")
    @classmethod
    def _partner_exists(cls, value: str | None) -> str | None:
        return value if value is None else _known("partner", value, _ESTATE.partner_ids)


class ClockSkew(_Fault):
    """One site's clock is off: its events claim times that are `offset` wrong."""

    kind: Literal["clock_skew"]
    facility: str
    offset: Offset

    @field_validator("facility")
    @classmethod
    def _facility_exists(cls, value: str) -> str:
        return _known("facility", value, _ESTATE.facility_codes)


class InventoryDrift(_Fault):
    """The ERP (and the channels after it) hold a different on_hand than the WMS reports."""

    kind: Literal["inventory_drift"]
    facility: str
    delta: int = Field(description="ERP on_hand minus WMS on_hand.")
    skus: list[str] | None = None
    rate: Rate = 1.0

    @field_validator("facility")
    @classmethod
    def _facility_exists(cls, value: str) -> str:
        return _known("facility", value, _ESTATE.facility_codes)

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("a drift of 0 is no drift")
        return value

    @field_validator("skus")
    @classmethod
    def _skus_exist(cls, value: list[str] | None) -> list[str] | None:
        for sku in value or []:
            _known("sku", sku, _ESTATE.sku_codes)
        return value


class QueueBacklog(_Fault):
    """A middleware queue's consumer stalls; messages wait until the window ends, then drain."""

    kind: Literal["queue_backlog"]
    queue: str
    start: Offset
    duration: Duration
    drain: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.25,
        description="Seconds of drain per second of backlog once the consumer is back.",
    )

    @field_validator("queue")
    @classmethod
    def _queue_exists(cls, value: str) -> str:
        return _known("queue", value, _ESTATE.queue_names)


class DeadLetter(_Fault):
    """Middleware dead-letters a message (an error event); it is replayed later, or never."""

    kind: Literal["dead_letter"]
    queue: str
    rate: Rate
    replay_after: Duration | None = Field(
        default=timedelta(hours=2), description="When an operator replays it; never when null."
    )

    @field_validator("queue")
    @classmethod
    def _queue_exists(cls, value: str) -> str:
        return _known("queue", value, _ESTATE.queue_names)


Fault = Annotated[
    WarehouseOutage
    | DuplicateDelivery
    | OutOfOrder
    | LostMessage
    | ErpPostingError
    | SlowAcknowledgement
    | ClockSkew
    | InventoryDrift
    | QueueBacklog
    | DeadLetter,
    Field(discriminator="kind"),
]


class Volume(BaseModel):
    """How busy the estate is. Orders follow a day curve per region; this is the daily mean."""

    model_config = ConfigDict(extra="forbid")

    orders_per_hour: Annotated[float, Field(ge=0, le=2_000_000)] = 120.0
    inventory_changes_per_hour: Annotated[float, Field(ge=0, le=1_000_000)] = Field(
        default=6.0, description="Per warehouse, per working hour (a tenth of it off shift)."
    )
    purchase_orders_per_day: Annotated[float, Field(ge=0, le=1_000_000)] = 24.0
    return_rate: Rate = 0.03


class Telemetry(BaseModel):
    """What the estate sends besides business events. Off unless a scenario asks for it, so a
    scenario written before telemetry existed sends exactly the events it always did."""

    model_config = ConfigDict(extra="forbid")

    spans: bool = Field(
        default=False,
        description="OTLP spans from the integration flows and the EDI translator (/v1/traces).",
    )
    logs: bool = Field(
        default=False,
        description="ERP interface and middleware consumer log lines (POST /api/v1/logs).",
    )
    queues: bool = Field(
        default=False,
        description="Middleware queue and dead-letter queue samples every 5 simulated minutes "
        "(POST /api/v1/queues/samples).",
    )

    @property
    def enabled(self) -> bool:
        """Spans or log lines (queue samples have a sink of their own)."""
        return self.spans or self.logs


class Scenario(BaseModel):
    """One run of the demo estate: its volume, history, faults and telemetry."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    seed: int = 1
    backfill: NonNegative = timedelta(days=1)
    speed: Annotated[float, Field(gt=0, le=100_000)] = 1.0
    volume: Volume = Field(default_factory=Volume)
    telemetry: Telemetry = Field(default_factory=Telemetry)
    faults: list[Fault] = []


def shipped_scenario(name: str) -> Path:
    """The path of a scenario that ships with the simulator, e.g. "default" or "clean"."""
    path = Path(str(resources.files("simulator") / "scenarios" / f"{name}.yaml"))
    if not path.is_file():
        raise FileNotFoundError(f"no shipped scenario called {name!r}")
    return path


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; problems raise ConfigFileError with file and reason."""
    return load_yaml_model(path, Scenario)
