"""Exceptions: error events and dead letters grouped by cause, owned, worked and replayed.

Entry points: router (/api/v1/exceptions), jobs.run_once (the scheduled job), load_routing
(the routing rules, read once at start).
"""

from exceptions.api import router
from exceptions.jobs import ExceptionsConfig, run_once
from exceptions.routing import load_routing

__all__ = ["ExceptionsConfig", "load_routing", "router", "run_once"]
