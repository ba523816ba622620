"""GET/POST/DELETE /api/v1/keys: manage API keys (admin scope; see tower/access/policy.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from tower.access.keys import KeyStore, Scope, describe
from tower.access.middleware import caller_of

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


KeysDep = Annotated[KeyStore, Depends(get_keys)]


class KeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["wms-dc-east"])
    scopes: list[Scope] = Field(min_length=1, examples=[["ingest"]])


class CreatedKey(BaseModel):
    key_id: str
    name: str
    scopes: list[Scope]
    key: str = Field(description="The key itself. Shown once: only its hash is stored.")


@router.get("")
def list_keys(keys: KeysDep) -> list[dict[str, Any]]:
    """Every key, active and revoked, without secrets."""
    return [describe(row) for row in keys.list()]


@router.post("", status_code=201, response_model=CreatedKey)
def create_key(body: KeyRequest, keys: KeysDep, request: Request) -> CreatedKey:
    caller = caller_of(request.scope.get("state", {}))
    created = keys.create(body.name, body.scopes, created_by=caller.name if caller else "api")
    return CreatedKey(
        key_id=created.key_id, name=created.name, scopes=created.scopes, key=created.key
    )


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: str, keys: KeysDep) -> None:
    if not keys.revoke(key_id):
        raise HTTPException(404, f"no active key {key_id}; `tower keys list` shows them")
