"""The exception workflow: acknowledge, start, resolve, assign, comment; and the history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from exceptions.errors import BadTransition, ExceptionNotFound
from exceptions.queries import LANE, SQL
from tower.db import Store

__all__ = ["MOVES", "add_history", "assign", "comment", "get_exception", "history", "move"]

# the moves a person may make: status -> the statuses it may come from
MOVES: dict[str, tuple[str, ...]] = {
    "acknowledged": ("open",),
    "in_progress": ("open", "acknowledged"),
    "resolved": ("open", "acknowledged", "in_progress", "replayed"),
}


def get_exception(*, store: Store, exception_id: int) -> dict[str, Any]:
    """One exception's row; ExceptionNotFound when there is none."""
    rows = store.query(
        SQL["get_exception"], {"exception_id": exception_id}, doing="reading an exception"
    )
    if not rows:
        raise ExceptionNotFound(f"exception {exception_id} does not exist")
    return rows[0]


def move(
    *, store: Store, exception_id: int, status: str, by: str, now: datetime, note: str | None
) -> dict[str, Any]:
    """Acknowledge, start or resolve an exception as `by`; BadTransition when not allowed."""
    with store.transaction(doing=f"moving exception {exception_id} to {status}", lane=LANE) as con:
        current = _status(con, exception_id)
        allowed = MOVES.get(status, ())
        if current not in allowed:
            raise BadTransition(
                f"exception {exception_id} is {current}; it can become {status} only from "
                f"{' or '.join(allowed) or 'nothing'}"
            )
        con.execute(SQL["set_status"], {"exception_id": exception_id, "status": status, "now": now})
        history(con, exception_id, now, by, status, current, status, {"note": note} if note else {})
    return get_exception(store=store, exception_id=exception_id)


def assign(
    *,
    store: Store,
    exception_id: int,
    owner: str | None,
    assignee: str | None,
    by: str,
    now: datetime,
) -> dict[str, Any]:
    """Give an exception to another team and/or a person."""
    with store.transaction(doing=f"assigning exception {exception_id}", lane=LANE) as con:
        current = _status(con, exception_id)
        params = {"exception_id": exception_id, "owner": owner, "assignee": assignee, "now": now}
        con.execute(SQL["assign"], params)
        history(con, exception_id, now, by, "assign", current, current,
                 {"owner": owner, "assignee": assignee})  # fmt: skip
    return get_exception(store=store, exception_id=exception_id)


def comment(
    *, store: Store, exception_id: int, text: str, by: str, now: datetime
) -> dict[str, Any]:
    """Add a comment to an exception's history."""
    with store.transaction(doing=f"commenting on exception {exception_id}", lane=LANE) as con:
        current = _status(con, exception_id)
        history(con, exception_id, now, by, "comment", current, current, {"text": text})
    return get_exception(store=store, exception_id=exception_id)


def add_history(
    con: Any,
    *,
    exception_id: int,
    at: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any],
    to_status: str | None = None,
) -> None:
    """One history entry inside the caller's transaction; with to_status, the move as well."""
    current = _status(con, exception_id)
    if to_status is not None and to_status != current:
        con.execute(
            SQL["set_status"], {"exception_id": exception_id, "status": to_status, "now": at}
        )
    history(con, exception_id, at, actor, action, current, to_status or current, detail)


def _status(con: Any, exception_id: int) -> str:
    rows = con.execute(SQL["status_of"], {"id": exception_id}).fetchall()
    if not rows:
        raise ExceptionNotFound(f"exception {exception_id} does not exist")
    return str(rows[0][0])


def history(
    con: Any,
    exception_id: int,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any],
) -> None:
    con.execute(
        SQL["insert_history"],
        {
            "exception_id": exception_id,
            "at": at,
            "actor": actor,
            "action": action,
            "from_status": from_status,
            "to_status": to_status,
            "detail": _json(detail),
        },
    )


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
