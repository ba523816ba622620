"""The alerts package's errors, mapped to HTTP answers by the app's one handler."""

from __future__ import annotations

from tower.exceptions import TowerError

__all__ = ["AlertNotFound", "DeliveryFailed", "SilenceNotFound"]


class AlertNotFound(TowerError):
    status_code = 404
    code = "not_found"


class SilenceNotFound(TowerError):
    status_code = 404
    code = "not_found"


class DeliveryFailed(Exception):
    """A receiver did not take a notification; it is retried with backoff."""

    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
