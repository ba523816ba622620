"""The journey search language under random input: a clear syntax error or a query that runs."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from correlator.search import FIELDS, LIST_FIELDS, SearchSyntaxError
from correlator.service import search_journeys
from tower.db import Store

EXAMPLES = int(os.environ.get("TOWER_FUZZ_EXAMPLES", "8")) * 25
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

words = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["OR", "-", '"', "*", ":", "\\", "'", "%", "_", "W-1001", "1Z*", "-x"]),
    st.builds(
        lambda name, value: f"{name}:{value}",
        st.sampled_from([*FIELDS, *LIST_FIELDS, "oms_order", "Bad-Name"]),
        st.text(max_size=8),
    ),
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(Path(tmp_path_factory.mktemp("search")) / "search.duckdb")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=st.lists(words, min_size=0, max_size=6).map(" ".join))
def test_any_query_is_refused_clearly_or_runs(store: Store, query: str) -> None:
    try:
        search_journeys(store=store, q=query, now=NOW, limit=5)
    except SearchSyntaxError as exc:
        assert exc.status_code == 400 and exc.detail
