"""Durations as people write them in YAML: 30s, 15m, 4h, 2d, 1h30m."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Duration", "format_duration", "parse_duration"]

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'1h30m' -> timedelta(hours=1, minutes=30). Raises ValueError with an example."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration; write e.g. 30s, 15m, 4h, 2d or 1h30m")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _PART.findall(cleaned)))


def format_duration(value: timedelta) -> str:
    """A short human form: 2d 4h, 15m 3s, 850ms."""
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    return " ".join(parts[:2])


def _coerce(value: Any) -> Any:
    """30s/15m/4h forms; a bare number is seconds; ISO 8601 (PT10S) passes to pydantic."""
    if isinstance(value, str):
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return timedelta(seconds=float(text))
        if text[:1] in ("P", "-") or ":" in text:
            return value
        return parse_duration(text)
    return value


Duration = Annotated[timedelta, BeforeValidator(_coerce), PlainSerializer(format_duration)]
