"""The storage module: migrations, checkpoints, errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.factories import make_events
from tests.servers import ThreadServer
from tower.db import Store, split_statements
from tower.exceptions import StorageError
from tower.settings import Settings


def test_migrations_apply_once_and_record_the_version(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    first = Store(path)
    version = first.schema_version
    first.close()
    again = Store(path)
    try:
        assert again.schema_version == version
        applied = again.query("SELECT version FROM schema_migrations ORDER BY 1", doing="t")
        files = sorted(Path(__file__).parents[2].joinpath("tower", "migrations").glob("*.sql"))
        assert [r["version"] for r in applied] == [int(f.name[:3]) for f in files]
        assert version == int(files[-1].name[:3])
    finally:
        again.close()


def test_background_checkpoint_folds_the_wal_after_ingest_and_reads(tmp_path: Path) -> None:
    # Reads through every path the API uses must not leave a transaction open: an open
    # transaction anywhere makes every CHECKPOINT fail, and the WAL would grow for ever.
    settings = Settings(db_path=tmp_path / "c.duckdb")
    with ThreadServer(settings) as server, httpx.Client(base_url=server.url) as http:
        http.post("/api/v1/events", json=make_events(2000, prefix="ck"))
        http.get("/api/v1/health")
        http.get("/api/v1/events", params={"key": "ck-W-7"})
        http.get("/api/v1/rejects")
        store: Store = server.app.state.store
        assert store.wal_bytes() > 0
        assert store.checkpoint_if_needed(wal_bytes=1) is True
        assert store.wal_bytes() < 4096


def test_storage_errors_say_what_was_being_done(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.duckdb")
    try:
        with pytest.raises(StorageError, match="counting widgets: .*widgets"):
            store.scalar("SELECT count(*) FROM widgets", doing="counting widgets")
    finally:
        store.close()


def test_split_statements_keeps_each_statement_and_drops_comments() -> None:
    script = "-- header\nCREATE TABLE a (x INT);\n\n-- note\nINSERT INTO a VALUES (1);\n"
    assert split_statements(script) == ["CREATE TABLE a (x INT)", "INSERT INTO a VALUES (1)"]


def test_a_migration_numbered_below_the_newest_still_runs(tmp_path: Path) -> None:
    path = tmp_path / "gap.duckdb"
    store = Store(path)
    newest = store.schema_version
    # as if migration 4 had landed after the newer ones: forget it and undo what it did
    with store.transaction(doing="t") as con:
        con.execute("DELETE FROM schema_migrations WHERE version = 4")
        con.execute("ALTER TABLE events ALTER COLUMN keys SET DATA TYPE JSON")
    store.close()

    again = Store(path)
    try:
        assert again.schema_version == newest
        column = again.scalar(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'events' AND column_name = 'keys'",
            doing="t",
        )
        assert column == "VARCHAR"
    finally:
        again.close()
