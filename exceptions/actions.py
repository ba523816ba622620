"""Replay through other middleware: a configured HTTP call per failure (routing.yaml).

For an exception with no dead letters, the first `replay_actions` entry whose match holds for
the exception is its replay: each occurrence (an error event, a reject, ...) is sent to the
action's URL as JSON, and the middleware resends what it holds. The same plan, confirmation,
claims (one per occurrence and action), pace and audit apply as for dead letters (replay.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from exceptions.queries import SQL
from exceptions.routing import Failure, ReplayAction
from tower.db import Store

__all__ = ["ReplayAction", "action_for", "call", "targets"]


def action_for(exception: dict[str, Any], actions: tuple[ReplayAction, ...]) -> ReplayAction | None:
    """The first action whose match holds for the exception, or None."""
    failure = Failure(
        origin=exception["origin"],
        source=exception["source"],
        error=exception["error"],
        place=exception["place"],
        facility=exception["facility"],
        partner=exception["partner"],
    )
    return next((a for a in actions if a.match.matches(failure)), None)


def targets(*, store: Store, exception_id: int, action: ReplayAction) -> list[dict[str, Any]]:
    """The exception's occurrences as replay targets, in the shape of dead-letter rows."""
    rows = store.query(
        SQL["occurrences_of"],
        {"exception_id": exception_id, "limit": 1_000_000},
        doing="reading occurrences to replay",
    )
    claims = {
        row["message_ref"]
        for row in store.query(
            SQL["claims_like"], {"prefix": f"http:{action.name}:"}, doing="reading claims"
        )
    }
    found = []
    for row in sorted(rows, key=lambda r: (r["occurred_at"], r["ref"])):
        claim = f"http:{action.name}:{row['ref']}"
        found.append(
            {
                "kind": "http",
                "message_ref": row["ref"],
                "claim_ref": claim,
                "message_id": row["ref"],
                "correlation_id": row["correlation_id"],
                "queue": "",
                "exchange": action.name,
                "routing_key": action.url,
                "keys": dict(row["keys"]),
                "error": row["error"],
                "occurred_at": row["occurred_at"],
                "detail": orjson.loads(row["detail"]),
                "replayed": claim in claims,
            }
        )
    return found


def call(
    *,
    client: httpx.Client,
    action: ReplayAction,
    target: dict[str, Any],
    exception_id: int,
    replay_id: str,
    by: str,
) -> httpx.Response:
    """Ask the middleware to replay one failure; raises httpx errors as they come."""
    response = client.request(
        action.method,
        action.url,
        headers=action.headers,
        json={
            "exception_id": exception_id,
            "replay_id": replay_id,
            "ref": target["message_ref"],
            "occurred_at": target["occurred_at"].isoformat(),
            "error": target["error"],
            "correlation_id": target["correlation_id"],
            "keys": target["keys"],
            "detail": target["detail"],
            "replayed_by": by,
        },
    )
    response.raise_for_status()
    return response
