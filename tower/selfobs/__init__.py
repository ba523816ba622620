"""The tower watching itself: health per part, its own spans and metrics, job records, history.

Entry points: `start` (wire one app from settings), `Monitor.health` (GET /api/v1/health),
`sample_once` (the history job). The SDK is configured in tower/selfobs/telemetry.py only.
"""

from tower.selfobs.health import Figures, Health, HealthPolicy, Monitor, Part
from tower.selfobs.jobs import JobTracker, sample_once
from tower.selfobs.wiring import SelfObs, policy_from, start

__all__ = [
    "Figures",
    "Health",
    "HealthPolicy",
    "JobTracker",
    "Monitor",
    "Part",
    "SelfObs",
    "policy_from",
    "sample_once",
    "start",
]
