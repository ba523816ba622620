"""The header a tower client sends: its key given explicitly, or TOWER_API_KEY."""

from __future__ import annotations

import os

__all__ = ["API_KEY_ENV", "auth_headers"]

API_KEY_ENV = "TOWER_API_KEY"


def auth_headers(api_key: str | None = None) -> dict[str, str]:
    """`Authorization: Bearer <key>`, or nothing when no key is configured."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    return {"Authorization": f"Bearer {key}"} if key else {}
