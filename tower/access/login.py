"""Signing in to the dashboards: GET/POST /login, POST /logout, and the guard in front of /ui.

The login form is CSRF-safe by double submit: GET /login sets a random seed cookie and puts a
token derived from it (HMAC under the installation key) in the form; POST /login must bring
both. The session cookie is HttpOnly and SameSite=Lax, so another site can neither read it
nor make the browser send it with a cross-site POST; the guard also refuses any POST under
/ui whose Origin is not the tower itself.
"""

from __future__ import annotations

import html
import logging
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tower.access.users import SignedIn, UserStore

__all__ = ["RequireLogin", "router"]

SESSION_COOKIE = "tower_session"
CSRF_COOKIE = "tower_csrf"
UI_PREFIX = "/ui"

router = APIRouter(tags=["login"], include_in_schema=False)
log = logging.getLogger(__name__)


def _users(request: Request) -> UserStore:
    users: UserStore = request.app.state.users
    return users


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    """Only a path on this tower: never an absolute URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/ui/"
    return target


def _page(*, next_path: str, token: str, problem: str | None = None) -> str:
    shown = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Control Tower</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f6f8; display: grid;
       place-items: center; min-height: 100vh; margin: 0; }}
form {{ background: white; padding: 2rem 2.5rem; border-radius: 8px; min-width: 20rem;
       box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
h1 {{ font-size: 1.25rem; margin: 0 0 1rem; }}
label {{ display: block; margin: .75rem 0 .25rem; font-size: .9rem; }}
input[type=text], input[type=password] {{ width: 100%; padding: .5rem; box-sizing: border-box; }}
button {{ margin-top: 1.25rem; width: 100%; padding: .6rem; background: #1f6feb; color: white;
         border: 0; border-radius: 4px; font-size: 1rem; cursor: pointer; }}
.problem {{ color: #b42318; }}
</style></head>
<body><form method="post" action="/login">
<h1>Control Tower</h1>{shown}
<input type="hidden" name="csrf" value="{html.escape(token)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label for="username">User</label>
<input id="username" name="username" type="text" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form></body></html>"""


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    seed = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(16)
    token = _users(request).csrf_token(seed)
    response = HTMLResponse(_page(next_path=_safe_next(next), token=token))
    response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    users = _users(request)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    next_path = _safe_next(form.get("next"))
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not secrets.compare_digest(users.csrf_token(seed), form.get("csrf", "")):
        fresh = secrets.token_urlsafe(16)
        response = HTMLResponse(
            _page(
                next_path=next_path,
                token=users.csrf_token(fresh),
                problem="The form expired; please sign in again.",
            ),
            status_code=403,
        )
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", path="/login")
        return response
    user = users.sign_in(form.get("username", ""), form.get("password", ""))
    if user is None:
        # 200 with the form again, as sign-in pages do; the log keeps the failure.
        log.warning("failed sign-in for %r from %s", form.get("username", ""), _client(request))
        return HTMLResponse(
            _page(
                next_path=next_path,
                token=users.csrf_token(seed),
                problem="Unknown user or wrong password.",
            )
        )
    signed = RedirectResponse(next_path, status_code=303)
    signed.set_cookie(
        SESSION_COOKIE,
        users.cookie_for(user),
        max_age=int(users.session_seconds),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return signed


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if name in jar:
                return jar[name].value
    return None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class RequireLogin:
    """In front of /ui: a signed-in user, or a redirect to /login (401 for a callback POST).

    The user reaches the dashboards as the headers X-Tower-User and X-Tower-Role (any the
    client sent are dropped first), which the dashboards' actions check before writing.
    """

    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(UI_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"x-tower-user", b"x-tower-role")
        ]
        if not self.enabled:
            await self.app({**scope, "headers": headers}, receive, send)
            return
        users: UserStore = scope["app"].state.users
        user: SignedIn | None = users.from_cookie(_cookie(headers, SESSION_COOKIE))
        if user is None:
            if scope["method"] in ("GET", "HEAD"):
                target = scope["path"] + (
                    "?" + scope["query_string"].decode() if scope["query_string"] else ""
                )
                await _send(
                    send, 303, b"", [(b"location", f"/login?next={quote(target)}".encode())]
                )
            else:
                await _send(
                    send,
                    401,
                    b'{"error":"unauthorized","detail":"sign in at /login"}',
                    [(b"content-type", b"application/json")],
                )
            return
        origin = _header(headers, b"origin")
        if scope["method"] not in ("GET", "HEAD") and origin is not None:
            if urlsplit(origin).netloc != _header(headers, b"host"):
                await _send(
                    send,
                    403,
                    b'{"error":"forbidden","detail":"cross-site request"}',
                    [(b"content-type", b"application/json")],
                )
                return
        headers += [
            (b"x-tower-user", user.username.encode()),
            (b"x-tower-role", str(user.role).encode()),
        ]
        await self.app({**scope, "headers": headers}, receive, send)


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
