"""Dashboard users: a role each, passwords kept as scrypt hashes, sessions as signed cookies.

A session cookie holds `username|role|expires|signature`, signed with HMAC-SHA256 under an
installation secret; nothing is stored per session. Every request re-checks that the user
still exists and is not disabled (from a cache refreshed every few seconds), so disabling a
user ends their sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tower.clock import Clock, utc_now
from tower.db import Store, load_queries

__all__ = ["Role", "SignedIn", "UserStore"]

SQL = load_queries("tower.access")
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 12


class Role(StrEnum):
    VIEWER = "viewer"  # sees every page
    OPERATOR = "operator"  # also acknowledges and silences alerts, works exceptions
    ADMIN = "admin"  # everything

    def may_operate(self) -> bool:
        return self in (Role.OPERATOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class SignedIn:
    username: str
    role: Role


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    n, r, p = SCRYPT["n"], SCRYPT["r"], SCRYPT["p"]
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    found = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(found, bytes.fromhex(digest))


class UserStore:
    """Create, list and disable users; check passwords; issue and read session cookies."""

    def __init__(
        self,
        store: Store,
        *,
        session_key: bytes,
        session_seconds: float = 12 * 3600,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._key = session_key
        self.session_seconds = session_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._active: dict[str, Role] = {}
        self._loaded_at = float("-inf")
        # A failed sign-in costs a full scrypt even for an unknown name: no timing oracle.
        self._decoy = hash_password(secrets.token_hex(8))

    def upsert(self, username: str, role: Role, password: str) -> None:
        if not username.strip() or "|" in username:
            raise ValueError("a username must be non-empty and hold no '|'")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
        with self._store.transaction(doing=f"saving user {username!r}", lane="access") as con:
            con.execute(
                SQL["upsert_user"],
                {
                    "username": username.strip(),
                    "role": str(role),
                    "password_hash": hash_password(password),
                    "at": self._clock(),
                },
            )
        self._loaded_at = float("-inf")

    def list(self) -> list[dict[str, Any]]:
        rows = self._store.query(SQL["list_users"], doing="listing users")
        return [
            {
                "username": r["username"],
                "role": r["role"],
                "created_at": _iso(r["created_at"]),
                "disabled_at": _iso(r["disabled_at"]),
            }
            for r in rows
        ]

    def disable(self, username: str) -> bool:
        with self._store.transaction(doing=f"disabling user {username!r}", lane="access") as con:
            done = con.execute(
                SQL["disable_user"], {"username": username, "at": self._clock()}
            ).fetchall()
        self._loaded_at = float("-inf")
        return bool(done)

    def sign_in(self, username: str, password: str) -> SignedIn | None:
        rows = self._store.query(SQL["find_user"], {"username": username}, doing="signing in")
        stored = rows[0]["password_hash"] if rows else self._decoy
        if not check_password(password, stored) or not rows:
            return None
        return SignedIn(rows[0]["username"], Role(rows[0]["role"]))

    # -- session cookies -------------------------------------------------------------------

    def cookie_for(self, user: SignedIn) -> str:
        expires = int(time.time() + self.session_seconds)
        payload = f"{user.username}|{user.role}|{expires}"
        return _b64(payload.encode()) + "." + self._sign(payload)

    def from_cookie(self, cookie: str | None) -> SignedIn | None:
        if not cookie or "." not in cookie:
            return None
        encoded, signature = cookie.rsplit(".", 1)
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        username, _, expires = payload.split("|")
        if int(expires) < time.time():
            return None
        current = self._roles().get(username)
        if current is None:
            return None  # disabled or deleted since the cookie was issued
        return SignedIn(username, current)  # a changed role applies at once

    def csrf_token(self, seed: str) -> str:
        """A token bound to a per-browser seed (double-submit: cookie and form must agree)."""
        return self._sign(f"csrf|{seed}")

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def _roles(self) -> dict[str, Role]:
        now = time.monotonic()
        if now - self._loaded_at > 5.0:
            with self._lock:
                rows = self._store.query(SQL["list_users"], doing="reading users")
                self._active = {
                    r["username"]: Role(r["role"]) for r in rows if r["disabled_at"] is None
                }
                self._loaded_at = now
        return self._active


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
