"""Secrets an installation makes for itself: created once, random, kept in the database."""

from __future__ import annotations

import secrets

from tower.db import Store

__all__ = ["installation_secret"]


def installation_secret(store: Store, name: str) -> bytes:
    """The secret called `name`, made (32 random bytes) the first time it is asked for."""
    with store.transaction(doing=f"reading the installation secret {name}", lane="access") as con:
        con.execute(
            "INSERT INTO installation_secrets (name, value) VALUES ($name, $value)"
            " ON CONFLICT (name) DO NOTHING",
            {"name": name, "value": secrets.token_hex(32)},
        )
        row = con.execute(
            "SELECT value FROM installation_secrets WHERE name = $name", {"name": name}
        ).fetchone()
    assert row is not None  # inserted just above if it was missing
    return bytes.fromhex(row[0])
