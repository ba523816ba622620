"""PII redaction at ingest: rules, the stored data, and search by a redacted ID."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import httpx
import orjson
import pyarrow as pa
import pytest

from collector.redaction import MASK, RedactionRules, Redactor, load_redaction
from correlator.jobs import run_once as correlate
from correlator.models import load_models
from tests.factories import make_event
from tests.servers import ThreadServer
from tower.settings import Settings
from tower.yamlfile import ConfigFileError

EMAIL = "jane.doe@example.com"


def redactor() -> Redactor:
    return Redactor(load_redaction(None), salt=b"test-salt")


def events(*rows: dict[str, object]) -> pa.Table:
    columns = ("keys", "attributes", "related", "error")
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})


def test_the_shipped_rules_hash_mask_and_drop_and_leave_the_rest_alone() -> None:
    clean = {"keys": '{"oms_order":"W-2"}', "attributes": '{"value":19.5}', "related": "[]"}
    table = events(
        {
            "keys": json.dumps({"oms_order": "W-1", "customer_email": EMAIL}),
            "attributes": json.dumps(
                {
                    "ship_to": {"street": "1 Main St", "phone": "+1 212 555 0100", "city": "NYC"},
                    "customer_name": "Jane Doe",
                    "note": f"confirm to {EMAIL} today",
                }
            ),
            "related": json.dumps([{"object_type": "shipment", "keys": {"email": EMAIL}}]),
            "error": f"mail to {EMAIL} bounced",
        },
        clean,
    )
    r = redactor()
    out = r.redact_events(table).to_pylist()

    keys = orjson.loads(out[0]["keys"])
    assert keys == {"oms_order": "W-1", "customer_email": r.hash(EMAIL)}
    attributes = orjson.loads(out[0]["attributes"])
    assert attributes["ship_to"] == {"phone": MASK, "city": "NYC"}  # street dropped
    assert attributes["customer_name"] == r.hash("Jane Doe")
    assert attributes["note"] == f"confirm to {r.hash(EMAIL)} today"
    assert orjson.loads(out[0]["related"])[0]["keys"] == {"email": r.hash(EMAIL)}
    assert out[0]["error"] == f"mail to {r.hash(EMAIL)} bounced"
    assert out[1] == {**clean, "error": None}  # untouched, byte for byte
    assert EMAIL not in str(out)


def test_the_hash_is_keyed_by_the_installation_salt() -> None:
    rules = load_redaction(None)
    one, other = Redactor(rules, salt=b"a"), Redactor(rules, salt=b"b")
    assert one.hash(EMAIL) == one.hash(EMAIL) != other.hash(EMAIL)
    assert one.hash(EMAIL).startswith("pii:")


def test_text_with_json_fields_is_masked_by_name() -> None:
    text = '{"phone": "555-0100", "address": "1 Main St", "sku": "SKU-1"}'
    out = redactor().redact_text(text)
    assert "555-0100" not in out and "1 Main St" not in out and '"sku": "SKU-1"' in out


@pytest.mark.parametrize(
    ("rules", "line", "reason"),
    [
        ("rules:\n  - name: x\n    keys: [email]\n    action: mask\n", 2, "can only be hashed"),
        ("rules:\n  - name: x\n    pattern: '(unclosed'\n", 3, "not a usable regular"),
        ("rules:\n  - name: x\n    action: hash\n", 2, "needs fields, keys or a pattern"),
        ("rules:\n  - name: x\n    fields: [a]\n    colour: red\n", 4, "colour"),
    ],
)
def test_a_bad_rules_file_fails_with_file_line_and_reason(
    tmp_path: Path, rules: str, line: int, reason: str
) -> None:
    path = tmp_path / "redaction.yaml"
    path.write_text(rules)
    with pytest.raises(ConfigFileError) as caught:
        load_redaction(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert reason in str(caught.value)


def test_no_rules_means_nothing_changes() -> None:
    table = events({"keys": json.dumps({"email": EMAIL}), "attributes": "{}", "related": "[]"})
    off = Redactor(RedactionRules(), salt=b"x")
    assert not off.active and off.redact_events(table) is table


def test_nothing_personal_reaches_the_database_and_search_still_finds_the_order(
    tmp_path: Path,
) -> None:
    settings = Settings(db_path=tmp_path / "tower.duckdb")
    order = make_event(
        type="order.accepted",
        keys={"oms_order": "W-77", "customer_email": EMAIL},
        attributes={"customer_name": "Jane Doe", "ship_to": {"street": "1 Main St"}},
    )
    bad = make_event(keys={"oms_order": "W-78"}, attributes={"contact": EMAIL}, status="broken")
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post("/api/v1/events", json=[order, bad]).json()
        assert answer["accepted"] == 1 and answer["rejected"][0]["index"] == 1
        logged = http.post(
            "/api/v1/logs",
            params={"source": "erp.s4"},
            content=f"2026-11-23 09:15:00,123 [x] ERROR a.B - mail {EMAIL} for order W-77\n",
            headers={"Content-Type": "text/plain"},
        )
        assert logged.status_code == 200
        correlate(store=server.app.state.store, models=load_models())

        found = http.get("/api/v1/journeys/search", params={"q": EMAIL}).json()["items"]
        assert len(found) == 1
        by_order = http.get("/api/v1/journeys/search", params={"q": "W-77"}).json()["items"]
        assert [j["journey_id"] for j in found] == [j["journey_id"] for j in by_order]

    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        for table in ("events", "event_keys", "event_rejects", "log_records"):
            dump = str(con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {table}").fetchall())
            assert EMAIL not in dump, table
            assert "Jane Doe" not in dump and "1 Main St" not in dump, table
        reject = con.execute("SELECT raw FROM event_rejects").fetchone()
        assert reject is not None and "pii:" in reject[0]
