"""The canonical records every source becomes. Field names are the public contract (docs/events.md).

The collector validates batches inside DuckDB for speed (collector/sql/validate.sql); these models
stay the contract: the OpenAPI schema, what Python producers (adapters, the demo estate) build,
and the rules the SQL must agree with (tests/collector/test_validation_parity.py checks both).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
)

__all__ = [
    "EVENT_FIELDS",
    "SYSTEMS",
    "Event",
    "IngestResult",
    "RejectedItem",
    "RelatedObject",
    "StoredEvent",
]

SYSTEMS = ("erp", "wms", "oms", "tms", "edi", "channel", "carrier", "middleware", "other")
System = Literal["erp", "wms", "oms", "tms", "edi", "channel", "carrier", "middleware", "other"]

# The same patterns appear in collector/sql/validate.sql; keep the two in step.
IDENTIFIER = r"^[a-z][a-z0-9_]{0,63}$"
EVENT_TYPE = r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
MAX_KEYS = 32
MAX_RELATED = 1000


def _aware_timestamp(value: Any) -> Any:
    """Accept an RFC 3339 string with an offset, or an aware datetime; refuse naive times."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamp has no time zone; send RFC 3339 with Z or an offset")
        return value
    if isinstance(value, str):
        if not RFC3339.match(value):
            if re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?$", value):
                raise ValueError("timestamp has no time zone; send RFC 3339 with Z or an offset")
            raise ValueError("timestamp is not RFC 3339 (e.g. 2026-11-23T09:15:00Z)")
        return value
    raise ValueError("timestamp must be an RFC 3339 string")


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is in the year 10000 in UTC
        raise ValueError("not a real date and time in UTC (years 1 to 9999)") from None


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity; refuse them wherever they hide in attributes."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and Infinity are not JSON numbers")
    if isinstance(value, dict):
        for item in value.values():
            _finite(item)
    elif isinstance(value, list):
        for item in value:
            _finite(item)
    return value


def _null_is(default: Any) -> BeforeValidator:
    """JSON null in an optional field means the same as leaving the field out."""
    return BeforeValidator(
        lambda v: default() if callable(default) and v is None else (default if v is None else v)
    )


AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_aware_timestamp),
    AfterValidator(_as_utc),
    PlainSerializer(lambda v: v.isoformat().replace("+00:00", "Z"), return_type=str),
]
Identifier = Annotated[str, Field(pattern=IDENTIFIER)]
KeyValue = Annotated[str, Field(min_length=1, max_length=256)]
Keys = Annotated[dict[Identifier, KeyValue], Field(min_length=1, max_length=MAX_KEYS)]


class RelatedObject(BaseModel):
    """Another object the event references. A link between journeys, never an alias."""

    model_config = ConfigDict(extra="forbid")

    object_type: Identifier = Field(examples=["order"])
    keys: Keys = Field(examples=[{"oms_order": "W-1001"}])


class Event(BaseModel):
    """One thing that happened to one business object in one system."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        None,
        description="Idempotency key from the producer. When absent, the collector derives a "
        "stable hash of source and payload, so an identical re-post is still a duplicate.",
        examples=["wms.dc-east:pick:88123"],
    )
    occurred_at: AwareDatetime = Field(
        description="When it happened at the source: RFC 3339 with Z or an offset. Stored as UTC.",
        examples=["2026-11-23T09:15:00-05:00"],
    )
    source: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="The emitting system instance.", examples=["wms.dc-east"]
    )
    system: System = Field(description="The kind of system that emitted it.")
    facility: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="Warehouse or site code, when there is one.", examples=["DC-EAST"]
    )
    type: Annotated[str, Field(max_length=128, pattern=EVENT_TYPE)] = Field(
        description="What happened: lower-case, dot-separated.", examples=["order.accepted"]
    )
    object_type: Identifier = Field(
        description="The kind of object the event is about.", examples=["order"]
    )
    keys: Keys = Field(
        description="Identifiers of this event's own object by namespace: aliases of one thing "
        "across systems.",
        examples=[{"oms_order": "W-1001", "erp_sales_order": "4500012"}],
    )
    correlation_id: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        None, description="Middleware message or W3C trace id, when present."
    )
    status: Annotated[Literal["ok", "error"], _null_is("ok")] = "ok"
    error: Annotated[str, Field(max_length=8192)] | None = Field(
        None, description="The source's error text when status is error."
    )
    attributes: Annotated[dict[str, Any], _null_is(dict), AfterValidator(_finite)] = Field(
        default_factory=dict,
        description="Everything else: sku, quantity, value, currency, customer, partner, ...",
    )
    related: Annotated[list[RelatedObject], Field(max_length=MAX_RELATED), _null_is(list)] = Field(
        default_factory=list,
        description="Other objects this event references (a shipment's orders). Links, "
        "never aliases: two orders in one shipment stay two journeys.",
    )


EVENT_FIELDS = tuple(Event.model_fields)


class StoredEvent(Event):
    """An event as the tower holds it: with its ingest sequence and arrival time."""

    event_id: str  # always set once stored
    seq: int = Field(description="Ingest sequence number: the order the tower committed events.")
    received_at: AwareDatetime = Field(description="When the collector accepted it.")


class RejectedItem(BaseModel):
    """One item of a batch the collector refused, and why."""

    index: int | None = Field(description="0-based position of the item in the batch.")
    line: int | None = Field(None, description="1-based line in an NDJSON body.")
    reason: str


class IngestResult(BaseModel):
    """What a batch post did: stored, already known, refused."""

    accepted: int = Field(description="Events stored by this request.")
    duplicates: int = Field(
        description="Events already stored (same event_id), or repeated within this batch."
    )
    rejected: list[RejectedItem] = Field(default_factory=list)
