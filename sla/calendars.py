"""Facility calendars: when a site works, so stall SLAs can count its working hours only.

A calendar is a time zone and a week of local working hours (`mon-fri: 06:00-22:00`). The one
question evaluation asks of it is `cutoff`: the latest instant from which a given amount of
working time has passed by `now`. A journey that entered its stage at or before that instant
has waited at least that much working time; the SQL compares against it, so the cost of
working hours is one small loop per facility, not per journey.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = ["DAYS", "Calendar", "cutoff", "working_time"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * 24 * 60  # minutes
RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def _as_list(value: Any) -> Any:
    """`mon-fri: 06:00-22:00` means `mon-fri: [06:00-22:00]`."""
    return [value] if isinstance(value, str) else value


def _valid_days(text: str) -> str:
    _days(text)
    return text


def _valid_range(text: str) -> str:
    _range(text)
    return text


def _valid_zone(name: str) -> str:
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


# Checked one by one so an error points at the line of the bad day or range.
Days = Annotated[str, AfterValidator(_valid_days)]
Ranges = Annotated[
    list[Annotated[str, AfterValidator(_valid_range)]],
    BeforeValidator(_as_list),
    Field(min_length=1),
]


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class Calendar(BaseModel):
    """One facility's working week in its own time zone.

    `hours` maps days (`mon`, `sat-sun`, `mon-fri`, `daily`) to local hour ranges
    (`05:00-23:00`, or a list of them). A range ending at or before its start runs past
    midnight into the next day (`22:00-06:00`); `00:00-24:00` is the whole day. Days not
    named are off.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    zone: Annotated[str, AfterValidator(_valid_zone)] = Field(
        description="IANA time zone of the facility, e.g. Europe/Amsterdam."
    )
    hours: dict[Days, Ranges] = Field(min_length=1, description="Days -> local hour ranges.")

    @field_validator("hours")
    @classmethod
    def _valid_week(cls, hours: dict[str, list[str]]) -> dict[str, list[str]]:
        _parse(tuple((days, tuple(ranges)) for days, ranges in hours.items()))  # twice, overlaps
        return hours

    @property
    def weekly(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per weekday (Monday first), its ranges as (start, end) minutes from local midnight,
        in order; an end past 1440 runs into the next day."""
        return _parse(tuple((days, tuple(ranges)) for days, ranges in self.hours.items()))

    def tz(self) -> ZoneInfo:
        return _zone(self.zone)


@cache
def _parse(
    hours: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[tuple[int, int], ...], ...]:
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    named: set[int] = set()
    for days, ranges in hours:
        for day in _days(days):
            if day in named:
                raise ValueError(f"{DAYS[day]} is named twice")
            named.add(day)
            week[day] += [_range(text) for text in ranges]
    spans = sorted((day * 1440 + s, day * 1440 + e) for day, rs in enumerate(week) for s, e in rs)
    # Overlaps (within a day, or a night shift running into the next day's first range,
    # Sunday's into Monday's) would count the same hours twice.
    for (_, end), (start, _) in zip(spans, [*spans[1:], (spans[0][0] + WEEK, 0)], strict=True):
        if end > start:
            raise ValueError(f"working hours overlap around {_when(start % WEEK)}")
    return tuple(tuple(sorted(rs)) for rs in week)


def _days(text: str) -> list[int]:
    key = text.strip().lower()
    if key == "daily":
        return list(range(7))
    first, sep, last = key.partition("-")
    if first not in DAYS or (sep and last not in DAYS):
        raise ValueError(f"{text!r} is not a day or day range (mon, sat-sun, mon-fri, daily)")
    a, b = DAYS.index(first), DAYS.index(last if sep else first)
    return [(a + i) % 7 for i in range((b - a) % 7 + 1)]


def _range(text: str) -> tuple[int, int]:
    match = RANGE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an hour range like 05:00-23:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r}: hours run 00:00 to 24:00")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:  # a night shift: ends the next day
        end += 1440
    return start, end


def _when(minute: int) -> str:
    return f"{DAYS[minute // 1440]} {minute % 1440 // 60:02d}:{minute % 60:02d}"


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local wall time `minutes` after `day`'s midnight, as UTC (a time a DST change skips
    counts by the offset before it, as zoneinfo does)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _intervals_before(calendar: Calendar, now: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (start, end) in UTC, clipped to `now`, latest first, without end."""
    zone = calendar.tz()
    week = calendar.weekly
    later = now
    day = now.astimezone(zone).date()
    while True:
        for start_min, end_min in reversed(week[day.weekday()]):
            start = _instant(day, start_min, zone)
            end = min(_instant(day, end_min, zone), later)
            if end > start:
                yield start, end
                later = start
        day -= timedelta(days=1)


def cutoff(calendar: Calendar, now: datetime, working: timedelta) -> datetime:
    """The latest instant from which `working` time of the calendar has passed by `now`.

    Something that started at or before it has waited at least `working` working time.
    """
    left = working
    if left <= timedelta(0):
        return now
    for start, end in _intervals_before(calendar, now):
        if left <= end - start:
            return end - left
        left -= end - start
    raise AssertionError("unreachable: a calendar has working hours every week")


def working_time(calendar: Calendar, since: datetime, now: datetime) -> timedelta:
    """Working time of the calendar between `since` and `now`."""
    total = timedelta(0)
    for start, end in _intervals_before(calendar, now):
        if end <= since:
            break
        total += end - max(start, since)
    return total
