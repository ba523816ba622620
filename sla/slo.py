"""SLOs: error budgets and multi-window multi-burn-rate alerting, as pure functions.

Burn rate = the error ratio over a window / the error ratio the objective allows (1 - objective).
A window pair fires when both its long and its short window burn at least `factor` times as
fast as the budget allows: the long window proves it matters, the short one that it is still
happening (so the alert resets soon after the burn stops). Defaults are the SRE workbook's:
1h/5m at 14.4 and 6h/30m at 6 (page), 3d/6h at 1 (ticket).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sla.inputs import WindowCounts
from sla.models import Slo

__all__ = ["SloStatus", "WindowBurn", "burn_rate", "error_ratio", "evaluate_slo", "windows_of"]


@dataclass(frozen=True, slots=True)
class WindowBurn:
    long: timedelta
    short: timedelta
    factor: float
    severity: str
    long_burn: float | None
    short_burn: float | None
    firing: bool


@dataclass(frozen=True, slots=True)
class SloStatus:
    name: str
    objective: float
    sli: float | None  # good / total over the period; None without events
    events: int
    budget_remaining: float | None  # 1 = untouched, 0 = spent, < 0 = overspent
    windows: list[WindowBurn]

    @property
    def firing(self) -> list[WindowBurn]:
        return [w for w in self.windows if w.firing]


def error_ratio(counts: WindowCounts | None) -> float | None:
    """Bad / total, or None when the window saw nothing."""
    if counts is None or counts.total <= 0:
        return None
    return (counts.total - counts.good) / counts.total


def burn_rate(counts: WindowCounts | None, objective: float) -> float | None:
    """How many times faster than the objective allows the budget is burning."""
    ratio = error_ratio(counts)
    return None if ratio is None else ratio / (1 - objective)


def windows_of(slo: Slo) -> list[timedelta]:
    """Every window length the SLO needs counts for, the budget period included."""
    lengths = {slo.period} | {w.long for w in slo.windows} | {w.short for w in slo.windows}
    return sorted(lengths)


def evaluate_slo(slo: Slo, counts: Mapping[timedelta, WindowCounts]) -> SloStatus:
    """Budget left over the period and the burn of each window pair."""
    burns = []
    for window in slo.windows:
        long_counts = counts.get(window.long)
        long_burn = burn_rate(long_counts, slo.objective)
        short_burn = burn_rate(counts.get(window.short), slo.objective)
        enough = long_counts is not None and long_counts.total >= slo.min_events
        firing = (
            enough
            and long_burn is not None
            and short_burn is not None
            and long_burn >= window.factor
            and short_burn >= window.factor
        )
        burns.append(
            WindowBurn(
                long=window.long,
                short=window.short,
                factor=window.factor,
                severity=window.severity,
                long_burn=long_burn,
                short_burn=short_burn,
                firing=firing,
            )
        )
    period = counts.get(slo.period)
    ratio = error_ratio(period)
    return SloStatus(
        name=slo.name,
        objective=slo.objective,
        sli=None if ratio is None else 1 - ratio,
        events=period.total if period else 0,
        budget_remaining=None if ratio is None else 1 - ratio / (1 - slo.objective),
        windows=burns,
    )
