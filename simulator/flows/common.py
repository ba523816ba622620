"""What every flow shares: the day's numbering and random stream, timing helpers, emitting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from simulator.estate import Estate, IdBook, Warehouse, zone
from simulator.records import Emission, JourneyRef

__all__ = ["Flow", "related_orders"]


@dataclass(slots=True)
class Flow:
    """The estate, one day's document numbers and one seeded random stream.

    Flows are pure: given the same Flow state they produce the same emissions, and the only
    source of chance is `rng` (never the global random module, never the wall clock).
    """

    estate: Estate
    ids: IdBook
    rng: random.Random

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def days(self, low: float, high: float) -> timedelta:
        return timedelta(days=self.rng.uniform(low, high))

    def on_shift(self, moment: datetime, warehouse: Warehouse) -> datetime:
        """The moment, or when the site's next shift starts if the floor is closed then.

        A night's backlog is worked first come, first served over the shift's first hour, so
        it does not land in one instant and what waited longest goes first (work that came in
        just before closing is not left until the backlog's end); no random draw, so timing
        never shifts the stream.
        """
        local = moment.astimezone(zone(warehouse.tz))
        opens, closes = warehouse.shift
        if opens <= local.hour < closes:
            return moment
        start = local.replace(hour=opens, minute=0, second=0, microsecond=0)
        if local.hour >= closes:
            start += timedelta(days=1)
        waited = (start - local).total_seconds()
        night = ((opens - closes) % 24 or 24) * 3600
        queued = min(max(1 - waited / night, 0.0), 1.0)  # share of the night gone when it came
        return start.astimezone(UTC) + timedelta(seconds=3600 * queued)

    def emit(
        self,
        at: datetime,
        *,
        source: str,
        system: str,
        type: str,
        object_type: str,
        keys: dict[str, str],
        journeys: tuple[JourneyRef, ...],
        tz: tzinfo = UTC,
        facility: str | None = None,
        attributes: dict[str, Any] | None = None,
        related: list[dict[str, Any]] | None = None,
        correlation_id: str | None = None,
    ) -> Emission:
        """One event; its id is the system, the step and the system's own document number."""
        document = next(iter(keys.values()))
        event: dict[str, Any] = {
            "event_id": f"{source}:{type}:{document}",
            "source": source,
            "system": system,
            "type": type,
            "object_type": object_type,
            "keys": keys,
            "attributes": attributes or {},
        }
        if facility is not None:
            event["facility"] = facility
        if related:
            event["related"] = related
        if correlation_id is not None:
            event["correlation_id"] = correlation_id
        # Interfaces take a few seconds to carry an event to the tower.
        latency = timedelta(seconds=self.rng.uniform(0.5, 20.0))
        return Emission(
            event=event,
            occurred_at=at,
            deliver_at=at + latency,
            tz=tz,
            journeys=journeys,
            queue=self.estate.queue_carrying(type),
        )


def related_orders(namespace: str, values: list[str]) -> list[dict[str, Any]]:
    """`related` entries for the orders a shipment, invoice or return refers to."""
    return [{"object_type": "order", "keys": {namespace: value}} for value in values]
