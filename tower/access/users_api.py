"""GET/POST /api/v1/users, DELETE /api/v1/users/{username}: dashboard users (admin scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, SecretStr

from tower.access.users import MIN_PASSWORD, Role, UserStore

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/users", tags=["users"])


def get_users(request: Request) -> UserStore:
    users: UserStore = request.app.state.users
    return users


UsersDep = Annotated[UserStore, Depends(get_users)]


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^|\s]+$")
    role: Role
    password: SecretStr = Field(min_length=MIN_PASSWORD)


@router.get("")
def list_users(users: UsersDep) -> list[dict[str, Any]]:
    """Every user with their role; disabled ones say since when."""
    return users.list()


@router.post("", status_code=201)
def save_user(body: UserIn, users: UsersDep) -> dict[str, str]:
    """Create a user, or give an existing one a new role and password (and enable them)."""
    users.upsert(body.username, body.role, body.password.get_secret_value())
    return {"username": body.username, "role": str(body.role)}


@router.delete("/{username}", status_code=204)
def disable_user(username: str, users: UsersDep) -> None:
    """Disable a user: their sessions end at once."""
    if not users.disable(username):
        raise HTTPException(404, f"no active user {username!r}")
