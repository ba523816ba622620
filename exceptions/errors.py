"""The exceptions package's errors, mapped to HTTP answers by the app's one handler."""

from __future__ import annotations

from tower.exceptions import TowerError

__all__ = ["BadTransition", "ExceptionNotFound", "ReplayRefused"]


class ExceptionNotFound(TowerError):
    status_code = 404
    code = "not_found"


class BadTransition(TowerError):
    """The workflow does not allow this move from the exception's status."""

    status_code = 409
    code = "bad_transition"


class ReplayRefused(TowerError):
    """A replay cannot be planned or confirmed; the message says which item and why."""

    status_code = 409
    code = "replay_refused"
