"""API keys: created with scopes, stored as a hash, checked on each request from a cache.

A key reads `ctk_<key id>_<secret>`. The key id is public (it names the key in lists and logs);
only the SHA-256 of the secret is stored. The secret is 256 random bits, so a fast hash is
enough: there is nothing to brute-force that a slow hash would protect (unlike a password).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tower.clock import Clock, utc_now
from tower.db import Store, load_queries

__all__ = ["BOOTSTRAP_NAME", "Caller", "KeyStore", "NewKey", "Scope"]

SQL = load_queries("tower.access")
PREFIX = "ctk"
BOOTSTRAP_NAME = "bootstrap"
MIN_BOOTSTRAP_LENGTH = 24


class Scope(StrEnum):
    INGEST = "ingest"  # send events, logs, spans, EDI, webhooks, queue samples
    READ = "read"  # every GET of the API
    ADMIN = "admin"  # everything, including keys, acks, silences, replays


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request's key belongs to."""

    key_id: str
    name: str
    scopes: frozenset[Scope]

    def may(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the only moment its full text exists."""

    key_id: str
    name: str
    scopes: list[Scope]
    key: str


@dataclass(frozen=True, slots=True)
class _Active:
    name: str
    scopes: frozenset[Scope]
    secret_hash: bytes


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _split(text: str) -> tuple[str, str] | None:
    prefix, _, rest = text.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    return key_id, secret


class KeyStore:
    """Create, list, revoke and check keys. Checks read a cache refreshed every few seconds."""

    def __init__(
        self,
        store: Store,
        *,
        bootstrap_key: str | None = None,
        clock: Clock = utc_now,
        refresh_seconds: float = 5.0,
    ) -> None:
        if bootstrap_key is not None and len(bootstrap_key) < MIN_BOOTSTRAP_LENGTH:
            raise ValueError(
                f"TOWER_BOOTSTRAP_ADMIN_KEY must be at least {MIN_BOOTSTRAP_LENGTH} characters "
                "(e.g. the output of `openssl rand -hex 24`)"
            )
        self._store = store
        self._bootstrap = _hash(bootstrap_key) if bootstrap_key else None
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._active: dict[str, _Active] = {}
        self._loaded_at = float("-inf")
        self._used: set[str] = set()

    def create(self, name: str, scopes: Iterable[Scope], *, created_by: str) -> NewKey:
        chosen = sorted(set(scopes))
        if not name.strip():
            raise ValueError("a key needs a name, e.g. wms-dc-east-ingest")
        if not chosen:
            raise ValueError("a key needs at least one scope: ingest, read or admin")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self._store.transaction(doing=f"creating API key {name!r}", lane="access") as con:
            con.execute(
                SQL["insert_key"],
                {
                    "key_id": key_id,
                    "name": name.strip(),
                    "scopes": [str(s) for s in chosen],
                    "secret_hash": _hash(secret).hex(),
                    "created_at": self._clock(),
                    "created_by": created_by,
                },
            )
        self._loaded_at = float("-inf")
        return NewKey(key_id, name.strip(), chosen, f"{PREFIX}_{key_id}_{secret}")

    def list(self) -> list[dict[str, Any]]:
        self.flush_usage()
        return self._store.query(SQL["list_keys"], doing="listing API keys")

    def revoke(self, key_id: str) -> bool:
        """True when an active key was revoked; it stops working at once in this process."""
        with self._store.transaction(doing=f"revoking API key {key_id}", lane="access") as con:
            revoked = con.execute(
                SQL["revoke_key"], {"key_id": key_id, "at": self._clock()}
            ).fetchall()
        self._loaded_at = float("-inf")
        return bool(revoked)

    def authenticate(self, text: str) -> Caller | None:
        """The caller a key belongs to, or None for an unknown, malformed or revoked key."""
        if self._bootstrap is not None and hmac.compare_digest(_hash(text), self._bootstrap):
            return Caller(BOOTSTRAP_NAME, BOOTSTRAP_NAME, frozenset({Scope.ADMIN}))
        parts = _split(text)
        if parts is None:
            return None
        key_id, secret = parts
        active = self._cached().get(key_id)
        if active is None or not hmac.compare_digest(_hash(secret), active.secret_hash):
            return None
        self._used.add(key_id)
        return Caller(key_id, active.name, active.scopes)

    def flush_usage(self) -> None:
        """Record when keys were last used (a scheduled job calls this; so does list())."""
        with self._lock:
            used, self._used = self._used, set()
        if used:
            with self._store.transaction(doing="recording API key use", lane="access") as con:
                con.execute(SQL["touch_keys"], {"key_ids": sorted(used), "at": self._clock()})

    def _cached(self) -> dict[str, _Active]:
        now = time.monotonic()
        if now - self._loaded_at > self._refresh_seconds:
            with self._lock:
                if now - self._loaded_at > self._refresh_seconds:
                    rows = self._store.query(SQL["active_keys"], doing="reading API keys")
                    self._active = {
                        r["key_id"]: _Active(
                            r["name"],
                            frozenset(Scope(s) for s in r["scopes"]),
                            bytes.fromhex(r["secret_hash"]),
                        )
                        for r in rows
                    }
                    self._loaded_at = now
        return self._active


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A key's row as the API and CLI show it (never its secret or hash)."""
    return {
        "key_id": row["key_id"],
        "name": row["name"],
        "scopes": list(row["scopes"]),
        "created_at": _iso(row["created_at"]),
        "created_by": row["created_by"],
        "revoked_at": _iso(row["revoked_at"]),
        "last_used_at": _iso(row["last_used_at"]),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
