"""Errors the collector answers with; tower.app maps each to its HTTP status."""

from __future__ import annotations

from tower.exceptions import TowerError


class BadBody(TowerError):
    """The body as a whole cannot be read (not JSON, bad gzip, bad encoding)."""

    status_code = 400
    code = "bad_request"


class BodyTooLarge(TowerError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedContentType(TowerError):
    status_code = 415
    code = "unsupported_media_type"


class WriterBusy(TowerError):
    """The writer's queue is full: the client should retry after a pause."""

    status_code = 429
    code = "too_many_requests"


class WriterStopped(TowerError):
    """The writer is not running (shutting down, or it failed)."""

    status_code = 503
    code = "unavailable"
