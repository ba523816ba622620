"""docs/opentelemetry.md's set-ups, taken from the page itself, against a tower that wants keys.

The SDK's environment variables go to the real Python SDK exporter. There is no Collector binary
here, so its configuration is checked for shape and then sent as its otlphttp exporter sends:
the base endpoint with /v1/traces, /v1/logs and /v1/metrics appended, its headers, gzip.
"""

from __future__ import annotations

import gzip
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.adapters.otlp_payloads import otlp_json, span, trace_request
from tests.servers import ThreadServer, keyed_settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "opentelemetry.md"
BOOTSTRAP = "bootstrap-admin-key-for-otlp-docs-0123456789"
DOC_HOST = "http://tower.example:4318"


def block(heading: str, language: str) -> str:
    """The first fenced block of `language` under the `## heading` of the page."""
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ")[0]
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found, f"no {language} block under '{heading}' in {PAGE}"
    return found.group(1)


@pytest.fixture
def tower(tmp_path: Path) -> Iterator[ThreadServer]:
    settings = keyed_settings(tmp_path / "tower.duckdb", BOOTSTRAP)
    with ThreadServer(settings) as running:
        yield running


def ingest_key(tower: ThreadServer) -> str:
    made = httpx.post(
        f"{tower.url}/api/v1/keys",
        json={"name": "otel-collector", "scopes": ["ingest"]},
        headers={"Authorization": f"Bearer {BOOTSTRAP}"},
    )
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]
    return key


def events_for(tower: ThreadServer, key: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{tower.url}/api/v1/events",
        params={"key": key},
        headers={"Authorization": f"Bearer {BOOTSTRAP}"},
    )
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_sdk_environment_on_the_page_delivers_spans(
    tower: ThreadServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ingest_key(tower)
    exported: dict[str, str] = {}
    for line in block("Point an SDK at the tower", "sh").splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            name, value = words[1].split("=", 1)
            value = value.replace("$TOWER_API_KEY", key).replace(DOC_HOST, tower.url)
            exported[name] = value
    assert {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS"} <= set(exported)
    for name, value in exported.items():
        monkeypatch.setenv(name, value)

    provider = TracerProvider(resource=Resource.create())  # OTEL_SERVICE_NAME from the page
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))  # all from the env
    with provider.get_tracer("docs").start_as_current_span(
        "order.accepted", attributes={"order.id": "W-4401"}
    ):
        pass
    provider.shutdown()

    (event,) = events_for(tower, "W-4401")
    assert (event["type"], event["source"]) == ("order.accepted", exported["OTEL_SERVICE_NAME"])


def test_the_collector_configuration_on_the_page_is_accepted(tower: ThreadServer) -> None:
    config = yaml.safe_load(block("Point an OpenTelemetry Collector at the tower", "yaml"))
    for signal, pipeline in config["service"]["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            missing = set(pipeline.get(kind, [])) - set(config.get(kind) or {})
            assert not missing, f"pipeline {signal} names undefined {kind} {missing}"
    [(name, exporter)] = [
        (n, e) for n, e in config["exporters"].items() if n.split("/")[0] == "otlphttp"
    ]
    assert set(config["service"]["pipelines"]) == {"traces", "logs", "metrics"}
    assert all(name in p["exporters"] for p in config["service"]["pipelines"].values())
    assert exporter["encoding"] in {"proto", "json"} and exporter["compression"] == "gzip"
    assert exporter["endpoint"].startswith(DOC_HOST)  # a base URL: the exporter adds the paths
    base = tower.url + exporter["endpoint"].removeprefix(DOC_HOST).split("#")[0].rstrip("/")

    key = ingest_key(tower)
    headers = {k: v.replace("${env:TOWER_API_KEY}", key) for k, v in exporter["headers"].items()}
    traces = trace_request(span("order.picked", 1, attributes={"order.id": "W-4402"}))
    bodies = {
        "proto": {
            "/v1/traces": traces.SerializeToString(),
            "/v1/logs": ExportLogsServiceRequest().SerializeToString(),
            "/v1/metrics": ExportMetricsServiceRequest().SerializeToString(),
        },
        "json": {
            "/v1/traces": orjson.dumps(otlp_json(traces)),
            "/v1/logs": b"{}",
            "/v1/metrics": b"{}",
        },
    }
    media = {"proto": "application/x-protobuf", "json": "application/json"}
    with httpx.Client(base_url=base, timeout=30) as client:
        for encoding in ("proto", "json"):  # the page says either works
            for path, body in bodies[encoding].items():
                sent = {
                    **headers,
                    "Content-Type": media[encoding],
                    "Content-Encoding": "gzip",
                }
                answer = client.post(path, content=gzip.compress(body), headers=sent)
                assert answer.status_code == 200, (encoding, path, answer.text)
        keyless = client.post(
            "/v1/traces",
            content=gzip.compress(bodies["proto"]["/v1/traces"]),
            headers={"Content-Type": media["proto"], "Content-Encoding": "gzip"},
        )

    assert keyless.status_code == 401  # so the headers on the page are what let it in
    assert [e["type"] for e in events_for(tower, "W-4402")] == ["order.picked"]
