"""Every endpoint of the OpenAPI schema fuzzed by schemathesis against a real server: no 5xx.

`make test` runs a few examples per operation; `make fuzz` (TOWER_FUZZ_EXAMPLES=500) many more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.servers import ThreadServer, keyed_settings
from tower.app import create_app
from tower.settings import Settings

EXAMPLES = int(os.environ.get("TOWER_FUZZ_EXAMPLES", "8"))
LONG_RUN = "TOWER_FUZZ_EXAMPLES" in os.environ  # `make fuzz`: new inputs on every run
ADMIN = "fuzzing-admin-key-0123456789abcdef"


@pytest.fixture(scope="module")
def fuzzed_tower(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    folder = Path(tmp_path_factory.mktemp("fuzz"))
    with ThreadServer(keyed_settings(folder / "tower.duckdb", ADMIN)) as server:
        yield server


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_: schemathesis.SerializationContext, value: Any) -> bytes:
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item) for item in items).encode()


@schemathesis.serializer("application/x-protobuf", "application/edi-x12", "text/plain")
def _raw(_: schemathesis.SerializationContext, value: Any) -> bytes:
    """Whatever was generated, as bytes: the receivers must refuse garbage with a 4xx."""
    return value if isinstance(value, bytes) else json.dumps(value).encode()


# The schema the server publishes at /openapi.json, built without starting anything (the app's
# lifespan opens the database; building the schema does not).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(db_path=Path("unused.duckdb"))).openapi()
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,  # `make test` sends the same inputs on every run
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(
    case: schemathesis.Case, fuzzed_tower: ThreadServer
) -> None:
    response = case.call(
        base_url=fuzzed_tower.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
    )
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
