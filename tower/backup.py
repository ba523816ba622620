"""Online backups: a consistent copy of the whole database into a new DuckDB file.

DuckDB's COPY FROM DATABASE reads one snapshot of every table (and sequence) while ingest
goes on, so the copy is consistent without stopping the tower. A second process cannot open
the tower's file while it runs (DuckDB locks it), which is why backups go through the tower.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from tower.db import Store
from tower.exceptions import StorageError, TowerError

__all__ = ["Backup", "BadBackupName", "backup", "list_backups"]

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
ALIAS = "tower_backup_target"


class BadBackupName(TowerError):
    status_code = 422
    code = "bad_backup_name"


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    bytes: int
    seconds: float


def backup(store: Store, folder: Path, *, name: str | None, now: datetime) -> Backup:
    """Copy the database into `folder`/`name`.duckdb (a fresh file; never overwrites)."""
    stem = name or f"tower-{now.strftime('%Y%m%dT%H%M%SZ')}"
    stem = stem.removesuffix(".duckdb")
    if not NAME.fullmatch(stem):
        raise BadBackupName(
            f"backup name {stem!r}: letters, digits, '.', '_' and '-' only (a file name in "
            f"{folder}, not a path)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.duckdb"
    if target.exists():
        raise BadBackupName(f"{target} exists already; choose another name")
    started = time.perf_counter()
    with store.job_lock("backup"):
        cur = store.cursor()
        try:
            source = cur.execute("SELECT current_database()").fetchall()[0][0]
            cur.execute(f"ATTACH '{target}' AS {ALIAS}")  # path checked above: no quotes
            try:
                cur.execute(f'COPY FROM DATABASE "{source}" TO {ALIAS}')
            finally:
                cur.execute(f"DETACH {ALIAS}")
        except duckdb.Error as exc:
            target.unlink(missing_ok=True)
            raise StorageError(f"backing up to {target}: {exc}") from exc
    return Backup(target, target.stat().st_size, time.perf_counter() - started)


def list_backups(folder: Path) -> list[Backup]:
    """The backups in `folder`, newest first."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [Backup(p, p.stat().st_size, 0.0) for p in files]
