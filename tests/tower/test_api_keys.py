"""API keys with scopes on a real server with access control on (TOWER_AUTH_REQUIRED=true)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.factories import make_events
from tests.servers import ThreadServer, keyed_settings
from tower.access.policy import required_scope
from tower.settings import Settings

BOOTSTRAP = "bootstrap-admin-key-for-tests-0123456789"


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[ThreadServer]:
    settings = keyed_settings(tmp_path / "tower.duckdb", BOOTSTRAP)
    with ThreadServer(settings) as running:
        yield running


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create(tower: ThreadServer, name: str, *scopes: str, admin: str = BOOTSTRAP) -> str:
    made = httpx.post(
        f"{tower.url}/api/v1/keys",
        json={"name": name, "scopes": list(scopes)},
        headers=bearer(admin),
    )
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]
    return key


def test_without_a_key_every_api_and_otlp_endpoint_answers_401(tower: ThreadServer) -> None:
    for method, path in [
        ("POST", "/api/v1/events"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/journeys/search?q=W-1"),
        ("GET", "/api/v1/alerts"),
        ("POST", "/v1/traces"),
        ("GET", "/api/v1/keys"),
    ]:
        answer = httpx.request(method, tower.url + path, json=[])
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "tower keys create" in answer.json()["detail"]
    # Probes, metrics and the docs stay open.
    assert httpx.get(f"{tower.url}/api/v1/health").status_code == 200
    assert httpx.get(f"{tower.url}/metrics").status_code == 200


def test_each_scope_opens_its_own_endpoints_and_no_others(tower: ThreadServer) -> None:
    ingest = create(tower, "wms-dc-east", "ingest")
    read = create(tower, "support-desk", "read")

    sent = httpx.post(f"{tower.url}/api/v1/events", json=make_events(3), headers=bearer(ingest))
    assert sent.status_code == 200 and sent.json()["accepted"] == 3
    denied = httpx.get(f"{tower.url}/api/v1/events", headers=bearer(ingest))
    assert denied.status_code == 403
    assert "'wms-dc-east'" in denied.json()["detail"] and "needs read" in denied.json()["detail"]

    listed = httpx.get(f"{tower.url}/api/v1/events", headers=bearer(read))
    assert listed.status_code == 200 and len(listed.json()["items"]) == 3
    assert (
        httpx.post(
            f"{tower.url}/api/v1/events", json=make_events(1), headers=bearer(read)
        ).status_code
        == 403
    )
    assert (
        httpx.post(f"{tower.url}/api/v1/silences", json={}, headers=bearer(read)).status_code == 403
    )  # acting on alerts needs admin
    assert httpx.get(f"{tower.url}/api/v1/keys", headers=bearer(read)).status_code == 403
    # X-API-Key works as well as a bearer token.
    assert httpx.get(f"{tower.url}/api/v1/events", headers={"X-API-Key": read}).status_code == 200


def test_a_revoked_key_stops_working_at_once_and_keys_are_stored_hashed(
    tower: ThreadServer,
) -> None:
    admin = create(tower, "ops", "admin")
    read = create(tower, "grafana", "read")
    key_id = read.split("_")[1]
    assert httpx.get(f"{tower.url}/api/v1/events", headers=bearer(read)).status_code == 200

    listed = httpx.get(f"{tower.url}/api/v1/keys", headers=bearer(admin)).json()
    grafana = next(k for k in listed if k["name"] == "grafana")
    assert grafana["scopes"] == ["read"] and grafana["created_by"] == "bootstrap"
    assert grafana["last_used_at"] is not None
    assert all("key" not in k and "secret_hash" not in k for k in listed)

    gone = httpx.delete(f"{tower.url}/api/v1/keys/{key_id}", headers=bearer(admin))
    assert gone.status_code == 204
    assert httpx.get(f"{tower.url}/api/v1/events", headers=bearer(read)).status_code == 401
    again = httpx.delete(f"{tower.url}/api/v1/keys/{key_id}", headers=bearer(admin))
    assert again.status_code == 404

    store = tower.app.state.store
    secret = read.split("_", 2)[2]
    rows = store.query("SELECT * FROM api_keys", doing="test")
    assert all(secret not in str(row.values()) for row in rows)


def test_a_wrong_or_made_up_key_is_401(tower: ThreadServer) -> None:
    real = create(tower, "edi-gateway", "ingest")
    for key in ["nonsense", real[:-1] + ("x" if real[-1] != "x" else "y"), "ctk__", BOOTSTRAP[:-1]]:
        answer = httpx.post(f"{tower.url}/api/v1/events", json=[], headers=bearer(key))
        assert answer.status_code == 401, key


def test_the_cli_creates_lists_and_revokes_keys(tower: ThreadServer) -> None:
    env = {**os.environ, "TOWER_URL": tower.url, "TOWER_API_KEY": BOOTSTRAP}

    def tower_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tower", "keys", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    made = tower_cli("create", "carrier-webhooks", "--scope", "ingest")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("ctk_") and "shown again" in made.stderr
    assert (
        httpx.post(
            f"{tower.url}/api/v1/events", json=make_events(1), headers=bearer(key)
        ).status_code
        == 200
    )

    listed = tower_cli("list")
    assert listed.returncode == 0 and "carrier-webhooks" in listed.stdout

    revoked = tower_cli("revoke", key.split("_")[1])
    assert revoked.returncode == 0, revoked.stderr
    assert httpx.post(f"{tower.url}/api/v1/events", json=[], headers=bearer(key)).status_code == 401

    env["TOWER_API_KEY"] = "wrong"
    refused = tower_cli("list")
    assert refused.returncode == 1 and "401" in refused.stderr


def test_a_short_bootstrap_key_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 24"):
        Settings(db_path=tmp_path / "t.duckdb", bootstrap_admin_key="short")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/api/v1/events", "ingest"),
        ("POST", "/api/v1/logs", "ingest"),
        ("POST", "/api/v1/edi", "ingest"),
        ("POST", "/api/v1/webhooks/shopify-orders", "ingest"),
        ("POST", "/api/v1/queues/samples", "ingest"),
        ("POST", "/v1/logs", "ingest"),
        ("GET", "/api/v1/journeys/J-1", "read"),
        ("GET", "/api/v1/exceptions", "read"),
        ("POST", "/api/v1/alerts/abc/ack", "admin"),
        ("DELETE", "/api/v1/silences/1", "admin"),
        ("POST", "/api/v1/exceptions/7/replay", "admin"),
        ("GET", "/api/v1/keys", "admin"),
        ("GET", "/api/v1/health", None),
        ("GET", "/ui/trace", None),
        ("GET", "/metrics", None),
    ],
)
def test_which_scope_a_request_needs(method: str, path: str, scope: str | None) -> None:
    assert required_scope(method, path) == scope


def test_keys_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "tower.duckdb", auth_required=True)
    with ThreadServer(keyed_settings(settings.db_path, BOOTSTRAP)) as first:
        key = create(first, "erp", "ingest")
    with ThreadServer(settings) as second:  # no bootstrap key any more
        answer = httpx.post(f"{second.url}/api/v1/events", json=make_events(1), headers=bearer(key))
        assert answer.status_code == 200
        assert httpx.get(f"{second.url}/api/v1/keys", headers=bearer(BOOTSTRAP)).status_code == 401
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM api_keys").fetchone() == (1,)
    finally:
        con.close()
