"""Refuse API and OTLP requests without a key that carries the scope they need."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from tower.access.keys import Caller, KeyStore
from tower.access.policy import required_scope

__all__ = ["RequireApiKey", "key_from_headers"]

HOW = (
    "send the key as `Authorization: Bearer <key>` (or `X-API-Key: <key>`); "
    "create one with `tower keys create`"
)


def key_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key a request carries: `Authorization: Bearer`, or `X-API-Key`."""
    for name, value in headers:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


class RequireApiKey:
    """Pure ASGI (no body buffering): 401 without a valid key, 403 without the scope.

    The key store lives on app.state.keys, set when the app starts. Turned off
    (TOWER_AUTH_REQUIRED=false), every request passes.
    """

    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return
        keys: KeyStore | None = getattr(scope["app"].state, "keys", None)
        needed = required_scope(scope["method"], scope["path"])
        if keys is None or needed is None:
            await self.app(scope, receive, send)
            return
        text = key_from_headers(scope["headers"])
        if text is None:
            await _refuse(
                send, 401, f"this endpoint needs an API key with the {needed} scope; {HOW}"
            )
            return
        caller = keys.authenticate(text)
        if caller is None:
            await _refuse(send, 401, f"the API key is unknown or revoked; {HOW}")
            return
        if not caller.may(needed):
            granted = ", ".join(sorted(caller.scopes))
            await _refuse(
                send,
                403,
                f"the key {caller.name!r} ({caller.key_id}) has the scope(s) {granted}; "
                f"{scope['method']} {scope['path']} needs {needed}",
            )
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def caller_of(state: dict[str, object]) -> Caller | None:
    """The caller the middleware let in, if any (for audit fields such as created_by)."""
    caller = state.get("caller")
    return caller if isinstance(caller, Caller) else None


async def _refuse(send: Send, status: int, detail: str) -> None:
    error = "unauthorized" if status == 401 else "forbidden"
    body = orjson.dumps({"error": error, "detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="control-tower"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
