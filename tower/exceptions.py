"""The one error family the app maps to HTTP answers (see tower.app)."""

from __future__ import annotations


class TowerError(Exception):
    """Base of every error a user may see. Subclasses set the HTTP status and a stable code."""

    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class StorageError(TowerError):
    """DuckDB failed; the message says what the tower was doing at the time."""

    status_code = 503
    code = "storage_error"
