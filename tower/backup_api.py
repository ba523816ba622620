"""POST/GET /api/v1/backups: consistent copies of the database while the tower runs (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel

from tower.backup import backup, list_backups
from tower.deps import ClockDep, StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/backups", tags=["operations"])


class BackupOut(BaseModel):
    path: str
    bytes: int
    seconds: float


class BackupIn(BaseModel):
    name: str | None = None


@router.post("", status_code=201, response_model=BackupOut)
def make_backup(
    request: Request,
    store: StoreDep,
    clock: ClockDep,
    body: Annotated[BackupIn | None, Body()] = None,
) -> BackupOut:
    """Copy the whole database into a new file in the backup folder; answers when it is done."""
    made = backup(
        store, request.app.state.backup_dir, name=body.name if body else None, now=clock()
    )
    return BackupOut(path=str(made.path), bytes=made.bytes, seconds=round(made.seconds, 3))


@router.get("", response_model=list[BackupOut])
def backups(request: Request) -> list[BackupOut]:
    """The backups in the backup folder, newest first."""
    return [
        BackupOut(path=str(b.path), bytes=b.bytes, seconds=0.0)
        for b in list_backups(request.app.state.backup_dir)
    ]
