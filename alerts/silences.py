"""Silences, pure: an active silence whose every matcher matches an alert's labels mutes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.models import Matcher

__all__ = ["Silence", "silenced_by"]


@dataclass(frozen=True, slots=True)
class Silence:
    silence_id: str
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        """In force at `now` (from starts_at, up to but not including ends_at)."""
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def state(self, now: datetime) -> str:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"


def silenced_by(labels: dict[str, str], silences: list[Silence], *, now: datetime) -> list[str]:
    """The ids of the silences that mute these labels at `now`."""
    return [s.silence_id for s in silences if s.active(now) and s.matches(labels)]
