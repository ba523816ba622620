"""Figures shared by the benchmarks."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["quantile_ms"]


def quantile_ms(seconds: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of latencies given in seconds, in milliseconds, by nearest rank."""
    ordered = sorted(seconds)
    return 1000 * ordered[max(math.ceil(q * len(ordered)) - 1, 0)]
