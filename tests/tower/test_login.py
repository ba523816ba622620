"""Dashboard sign-in: users with roles, CSRF-safe login form, session cookies, the /ui guard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from flask import Flask

from dashboards import actions
from tests.servers import ThreadServer, keyed_settings
from tower.access.login import RequireLogin

ADMIN_KEY = "login-tests-admin-key-0123456789abcd"
PASSWORD = "correct horse battery"


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[ThreadServer]:
    settings = keyed_settings(tmp_path / "tower.duckdb", ADMIN_KEY)
    with ThreadServer(settings) as running:
        yield running


def add_user(tower: ThreadServer, username: str, role: str) -> None:
    made = httpx.post(
        f"{tower.url}/api/v1/users",
        json={"username": username, "role": role, "password": PASSWORD},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert made.status_code == 201, made.text


def sign_in(http: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    form = http.get("/login", params={"next": "/ui/oncall"})
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    return http.post(
        "/login",
        content=f"csrf={token.group(1)}&next=%2Fui%2Foncall&username={username}&password="
        + password.replace(" ", "+"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_the_dashboards_send_a_stranger_to_the_login_page(tower: ThreadServer) -> None:
    with httpx.Client(base_url=tower.url) as http:
        page = http.get("/ui/facilities?facility=DC-EAST")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/ui/facilities%3Ffacility%3DDC-EAST"
        callback = http.post("/ui/_dash-update-component", json={})
        assert callback.status_code == 401


def test_sign_in_then_the_dashboards_open(tower: ThreadServer) -> None:
    add_user(tower, "maria", "operator")
    with httpx.Client(base_url=tower.url) as http:
        wrong = sign_in(http, "maria", "not the password at all")
        assert wrong.status_code == 200 and "wrong password" in wrong.text
        assert "tower_session" not in http.cookies
        right = sign_in(http, "maria")
        assert right.status_code == 303 and right.headers["location"] == "/ui/oncall"
        assert http.get("/ui/").status_code == 200
        # A callback from another site is refused even with the cookie.
        forged = http.post(
            "/ui/_dash-update-component", json={}, headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403
        http.post("/logout")
        assert http.get("/ui/").status_code == 303


def test_a_login_post_without_the_form_token_is_refused(tower: ThreadServer) -> None:
    add_user(tower, "maria", "operator")
    with httpx.Client(base_url=tower.url) as http:
        forged = http.post(
            "/login",
            content=f"username=maria&password={PASSWORD.replace(' ', '+')}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert forged.status_code == 403 and "tower_session" not in http.cookies


def test_the_next_page_stays_on_the_tower(tower: ThreadServer) -> None:
    add_user(tower, "maria", "viewer")
    with httpx.Client(base_url=tower.url) as http:
        form = http.get("/login", params={"next": "https://evil.example/"})
        assert 'name="next" value="/ui/"' in form.text


def test_disabling_a_user_ends_their_session(tower: ThreadServer) -> None:
    add_user(tower, "temp", "viewer")
    with httpx.Client(base_url=tower.url) as http:
        assert sign_in(http, "temp").status_code == 303
        assert http.get("/ui/").status_code == 200
        gone = httpx.delete(
            f"{tower.url}/api/v1/users/temp", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
        assert gone.status_code == 204
        tower.app.state.users._loaded_at = float("-inf")  # the 5 s cache, without waiting
        assert http.get("/ui/").status_code == 303


def test_a_short_password_is_refused(tower: ThreadServer) -> None:
    answer = httpx.post(
        f"{tower.url}/api/v1/users",
        json={"username": "x", "role": "viewer", "password": "short"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert answer.status_code == 422 and "password" in answer.text


def test_a_viewer_cannot_acknowledge_and_the_signed_in_name_is_used() -> None:
    flask = Flask(__name__)
    with flask.test_request_context(headers={"X-Tower-User": "vic", "X-Tower-Role": "viewer"}):
        with pytest.raises(ValueError, match="vic signs in as a viewer"):
            actions._who("someone else")
    with flask.test_request_context(headers={"X-Tower-User": "opal", "X-Tower-Role": "operator"}):
        assert actions._who("typed name") == "opal"
    with flask.test_request_context():
        assert actions._who("typed name") == "typed name"  # sign-in off: the typed name


def test_the_guard_drops_identity_headers_a_client_sends() -> None:
    seen: list[dict[bytes, bytes]] = []

    async def dashboards(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(dict(scope["headers"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = RequireLogin(dashboards, enabled=False)
    sent: list[dict[str, object]] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b""}

    scope = {
        "type": "http",
        "path": "/ui/",
        "method": "GET",
        "query_string": b"",
        "headers": [(b"x-tower-role", b"admin"), (b"x-tower-user", b"mallory")],
    }
    # Its own thread: the browser tests' sync Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, guard(scope, receive, send)).result()
    assert b"x-tower-role" not in seen[0] and b"x-tower-user" not in seen[0]
