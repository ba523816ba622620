"""Pure formatting for the pages and figures: durations, money, times in a facility's zone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["amounts", "duration", "moment", "parse_time"]


def duration(seconds: float | None) -> str:
    """45s, 12m, 3h 20m, 2d 4h; an empty string for None."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    left = int(round(abs(seconds)))
    if left < 60:
        return f"{sign}{left}s"
    minutes, _ = divmod(left, 60)
    if minutes < 60:
        return f"{sign}{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours}h {minutes}m" if minutes else f"{sign}{hours}h"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"


def amounts(values: Iterable[Mapping[str, Any]]) -> str:
    """Sums per currency, e.g. 'USD 12,340 · EUR 980'; a dash when there are none."""
    parts = []
    for item in values:
        if item.get("value") is None:
            continue
        currency = item.get("currency") or ""
        parts.append(f"{currency} {item['value']:,.0f}".strip())
    return " · ".join(parts) or "–"


def parse_time(value: datetime | str | None) -> datetime | None:
    """A datetime from a datetime or an ISO string (the correlator's JSON), UTC if naive."""
    if value is None:
        return None
    moment_ = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment_ if moment_.tzinfo else moment_.replace(tzinfo=UTC)


def moment(value: datetime | str | None, zone: ZoneInfo | None = None) -> str:
    """'2026-11-23 09:15 EST' in a zone (UTC when none); empty for None."""
    parsed = parse_time(value)
    if parsed is None:
        return ""
    local = parsed.astimezone(zone or UTC)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"
