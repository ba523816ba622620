"""POST /api/v1/logs and `tower ingest --format log` against real servers."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from tests.adapters.otlp_payloads import span, trace_request
from tests.servers import ThreadServer
from tower.settings import Settings

TEXT = {"Content-Type": "text/plain"}
LINES = b"""\
2026-11-23 09:15:00,123 [exec-3] ERROR c.acme.erp.OrderPosting - posting failed for order W-3001
java.lang.IllegalStateException: credit block on sales order 4503001
\tat com.acme.erp.OrderPosting.post(OrderPosting.java:88)
\t... 12 more
2026-11-23 09:15:01,007 [main] INFO c.acme.erp.OrderPosting - posted order W-3002
a line nobody can read
"""


def log_rows(server: ThreadServer) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = server.app.state.store.query(
        "SELECT source, extractor, severity_number, keys, body, derived_event_id"
        " FROM log_records ORDER BY time, body",
        doing="test",
    )
    return rows


def test_error_lines_with_a_key_mark_an_error_on_that_journey(
    client: httpx.Client, server: ThreadServer
) -> None:
    response = client.post("/api/v1/logs", params={"source": "erp.s4"}, content=LINES, headers=TEXT)

    assert response.status_code == 200
    assert response.json() == {
        "records": 3,
        "events": {"accepted": 1, "duplicates": 0, "rejected": []},
    }
    (event,) = client.get("/api/v1/events", params={"key": "4503001"}).json()["items"]
    assert (event["type"], event["status"], event["system"]) == ("log.error", "error", "erp")
    assert event["keys"] == {"oms_order": "W-3001", "erp_sales_order": "4503001"}
    assert "credit block" in event["error"]
    assert client.get("/api/v1/events", params={"key": "W-3002"}).json()["items"] == []

    rows = log_rows(server)
    assert [r["extractor"] for r in rows] == ["logback", "logback", None]  # kept, not dropped
    assert rows[0]["derived_event_id"] == event["event_id"]
    assert orjson.loads(str(rows[1]["keys"])) == {"oms_order": "W-3002"}


def test_ndjson_records_and_the_source_header(client: httpx.Client, server: ThreadServer) -> None:
    body = (
        b'{"ts":"2026-11-23T10:00:00Z","level":"ERROR","msg":"pick failed","order_id":"W-3101"}\n'
    )

    response = client.post(
        "/api/v1/logs",
        content=gzip.compress(body),
        headers={
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
            "X-Tower-Source": "wms.dc-east",
        },
    )

    assert response.json()["events"]["accepted"] == 1
    (event,) = client.get("/api/v1/events", params={"key": "W-3101"}).json()["items"]
    assert (event["source"], event["occurred_at"]) == ("wms.dc-east", "2026-11-23T10:00:00Z")


def test_log_posts_need_a_source_and_a_text_type(client: httpx.Client) -> None:
    nameless = client.post("/api/v1/logs", content=LINES, headers=TEXT)
    xml = client.post(
        "/api/v1/logs",
        params={"source": "x"},
        content=b"<a/>",
        headers={"Content-Type": "text/xml"},
    )

    assert nameless.status_code == 400 and "X-Tower-Source" in nameless.json()["detail"]
    assert xml.status_code == 415


def test_tower_ingest_format_log(server: ThreadServer, tmp_path: Path) -> None:
    path = tmp_path / "erp.log.gz"
    path.write_bytes(gzip.compress(LINES * 3))

    done = subprocess.run(
        [
            sys.executable, "-m", "tower", "ingest", "--url", server.url,
            "--format", "log", "--source", "erp.s4", "--batch-size", "2", str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "log records" in done.stderr
    rows = log_rows(server)
    assert len(rows) == 9  # batches of 2 lines never cut a stack trace
    assert sum(1 for r in rows if "credit block" in str(r["body"])) == 3


def test_the_tower_reads_with_the_rules_files_it_is_given(tmp_path: Path) -> None:
    # A house format and a house attribute the shipped rules know nothing of.
    otlp_rules = tmp_path / "otlp.yaml"
    otlp_rules.write_text(
        "keys:\n  - {attribute: acme.order_ref, namespace: oms_order, object_type: order}\n"
    )
    log_rules = tmp_path / "logs.yaml"
    log_rules.write_text(
        "extractors:\n"
        "  - name: pipes\n"
        "    format: regex\n"
        "    pattern: '^(?P<timestamp>[^|]+)[|](?P<severity>[A-Z]+)[|]ORD=(?P<order>[^|]+)"
        "[|](?P<message>.*)$'\n"
        "keys: {order: oms_order}\n"
        "object_types: {oms_order: order}\n"
    )
    settings = Settings(
        db_path=tmp_path / "t.duckdb", otlp_rules_path=otlp_rules, log_rules_path=log_rules
    )
    request = trace_request(span("order.packed", 1, attributes={"acme.order_ref": "W-5501"}))
    line = b"2026-11-23T09:15:00Z|ERROR|ORD=W-5502|posting failed\n"
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as client:
        spans = client.post(
            "/v1/traces",
            content=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        logs = client.post("/api/v1/logs", params={"source": "erp.s4"}, content=line, headers=TEXT)
        from_span = client.get("/api/v1/events", params={"key": "W-5501"}).json()["items"]
        from_line = client.get("/api/v1/events", params={"key": "W-5502"}).json()["items"]
        (row,) = log_rows(server)

    assert spans.status_code == logs.status_code == 200
    assert [(e["type"], e["keys"]) for e in from_span] == [
        ("order.packed", {"oms_order": "W-5501"})
    ]
    assert [(e["type"], e["status"]) for e in from_line] == [("log.error", "error")]
    assert row["extractor"] == "pipes"
