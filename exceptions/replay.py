"""Replay dead letters to their original exchange and routing key, in two steps.

plan() lists what would be replayed and returns a token; confirm() with that token publishes.
Each message is claimed before it is published (replay_claims, keyed by the message), so it is
replayed at most once however often a replay is asked for. Publishes are paced to a rate limit,
and every outcome is kept in `replays` and the exception's history (the audit).
"""

from __future__ import annotations

import logging
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pyarrow as pa

from adapters.logs import LogRules
from exceptions import actions, workflow
from exceptions.actions import ReplayAction
from exceptions.deadletters import DeadLetter, publish, remove_replayed
from exceptions.errors import ReplayRefused
from exceptions.queries import LANE, SQL
from exceptions.timeline import EventSink, replay_events
from tower.db import Store
from tower.exceptions import TowerError

__all__ = ["ReplayConfig", "attach", "config_for", "confirm", "plan"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """How replays run: broker credentials, pace, size, how long a plan stays valid."""

    auth: tuple[str, str] | None = None
    rate_per_second: float = 20.0
    max_messages: int = 1000
    plan_ttl: timedelta = timedelta(minutes=10)
    timeout: float = 10.0
    remove_after_replay: bool = True
    rules: LogRules | None = None  # to read the dead-letter queue when taking replayed copies
    events: EventSink | None = None  # where `message.replayed` events go (the tower's writer)
    actions: tuple[ReplayAction, ...] = ()  # HTTP replays of other middleware (actions.py)


# The dashboards replay through the store they were given; the tower attaches its replay
# settings to that store at start. Weak: a closed store's entry goes with it.
_CONFIGS: weakref.WeakKeyDictionary[Store, ReplayConfig] = weakref.WeakKeyDictionary()


def attach(store: Store, config: ReplayConfig) -> None:
    """Make `config` the replay settings of whatever replays through `store`."""
    _CONFIGS[store] = config


def config_for(store: Store) -> ReplayConfig:
    """The replay settings attached to `store` (defaults, without credentials, when none)."""
    return _CONFIGS.get(store, ReplayConfig())


def plan(
    *,
    store: Store,
    exception_id: int,
    message_ids: list[str] | None,
    by: str,
    now: datetime,
    config: ReplayConfig,
) -> dict[str, Any]:
    """What a replay would publish (all of the exception's dead letters, or those named).

    An exception without dead letters replays its occurrences through the first HTTP replay
    action that matches it, when one does; the message ids are then occurrence refs.
    """
    letters, action = _targets(store, exception_id, config)
    if message_ids is not None:
        known = {row["message_id"] for row in letters}
        unknown = [m for m in message_ids if m not in known]
        if unknown:
            raise ReplayRefused(
                f"exception {exception_id} has no "
                + ("failure with ref " if action else "dead letter with message id ")
                + ", ".join(repr(m) for m in unknown)
            )
        letters = [row for row in letters if row["message_id"] in set(message_ids)]
    if not letters:
        raise ReplayRefused(
            f"exception {exception_id} has no dead letters to replay, and no replay action "
            "of the routing rules matches it"
        )
    todo = [row for row in letters if not row["replayed"]]
    if len(todo) > config.max_messages:
        raise ReplayRefused(
            f"{len(todo)} messages exceed the replay limit of {config.max_messages}; "
            "select fewer messages"
        )
    token = secrets.token_urlsafe(18)
    expires_at = now + config.plan_ttl
    with store.transaction(
        doing=f"planning a replay of exception {exception_id}", lane=LANE
    ) as con:
        con.execute(
            SQL["insert_plan"],
            {
                "token": token,
                "exception_id": exception_id,
                "message_refs": orjson.dumps([row["message_ref"] for row in todo]).decode(),
                "by": by,
                "now": now,
                "expires_at": expires_at,
            },
        )
        workflow.add_history(
            con,
            exception_id=exception_id,
            at=now,
            actor=by,
            action="replay_planned",
            detail={"messages": len(todo), "already_replayed": len(letters) - len(todo)},
        )
    return {
        "token": token,
        "exception_id": exception_id,
        "expires_at": expires_at,
        "to_replay": len(todo),
        "already_replayed": len(letters) - len(todo),
        "messages": [
            {
                "message_id": row["message_id"],
                "correlation_id": row["correlation_id"],
                "queue": row["queue"],
                "exchange": row["exchange"],
                "routing_key": row["routing_key"],
                "will_replay": not row["replayed"],
            }
            for row in letters
        ],
    }


def confirm(
    *,
    store: Store,
    exception_id: int,
    token: str,
    by: str,
    clock: Callable[[], datetime],
    config: ReplayConfig,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """Carry out a planned replay once; a token used, expired or of another exception is refused."""
    now = clock()
    with store.transaction(
        doing=f"confirming a replay of exception {exception_id}", lane=LANE
    ) as con:
        taken = con.execute(
            SQL["take_plan"], {"token": token, "exception_id": exception_id, "by": by, "now": now}
        ).fetchall()
    if not taken:
        raise ReplayRefused(_why_refused(store, token, exception_id, now))
    refs = set(orjson.loads(taken[0][0]))
    targets, action = _targets(store, exception_id, config)
    letters = [row for row in targets if row["message_ref"] in refs]
    replay_id = secrets.token_hex(8)
    claimed = _claim(store, letters, replay_id, now)
    outcomes: list[dict[str, Any]] = []
    own = client is None
    http = client or httpx.Client(timeout=config.timeout)
    pause = 1.0 / config.rate_per_second if config.rate_per_second > 0 else 0.0
    next_at = time.monotonic()
    try:
        for row in letters:
            outcome = {
                "message_id": row["message_id"],
                "outcome": "already_replayed",
                "error": None,
            }
            if row["claim_ref"] in claimed:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # the rate limit: publishes at most rate_per_second
                next_at = time.monotonic() + pause
                if action is None:
                    outcome.update(_publish(store, http, _dead_letter(row), replay_id, config))
                else:
                    outcome.update(_call(store, http, action, row, exception_id, replay_id, by))
            outcomes.append({**outcome, "row": row})
    finally:
        if own:
            http.close()
    removed = 0
    if config.remove_after_replay and action is None:
        removed = _remove(store, outcomes, config, now=clock())
    left = sum(1 for row in _targets(store, exception_id, config)[0] if not row["replayed"])
    result = _audit(store, exception_id, token, replay_id, by, outcomes, removed, left, clock())
    published = [item["row"] for item in outcomes if item["outcome"] == "published"]
    result["journey_events"] = _journey_events(config, published, result, by, clock())
    return result


def _journey_events(
    config: ReplayConfig, rows: list[dict[str, Any]], result: dict[str, Any], by: str, at: datetime
) -> int:
    """Show the replay on the journeys (timeline.py); a failure here never undoes a replay."""
    if config.events is None or not rows:
        return 0
    rules = config.rules
    events = replay_events(
        rows,
        replay_id=result["replay_id"],
        exception_id=result["exception_id"],
        by=by,
        at=at,
        object_types=dict(rules.object_types) if rules else {},
        default_object_type=rules.default_object_type if rules else "order",
    )
    try:
        return config.events(events)
    except TowerError as exc:
        log.warning("replay %s: journey events not stored: %s", result["replay_id"], exc.detail)
        return 0


def _publish(
    store: Store, http: httpx.Client, letter: DeadLetter, replay_id: str, config: ReplayConfig
) -> dict[str, Any]:
    """Publish one claimed message; give the claim back when nothing was published."""
    try:
        published = publish(client=http, letter=letter, replay_id=replay_id, auth=config.auth)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code < 500:  # refused: certainly not published
            _release(store, letter.claim_ref, replay_id)
        return {"outcome": "failed", "error": f"HTTP {exc.response.status_code}: {exc}"}
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        _release(store, letter.claim_ref, replay_id)
        return {"outcome": "failed", "error": f"broker unreachable: {exc}"}
    except httpx.HTTPError as exc:
        # it may or may not have been published: keep the claim (at most once wins)
        return {"outcome": "failed", "error": f"no answer, may have been published: {exc}"}
    if not published.routed:
        _release(store, letter.claim_ref, replay_id)
        return {
            "outcome": "unroutable",
            "error": f"exchange {letter.exchange!r} routed {letter.routing_key!r} to no queue",
        }
    return {"outcome": "published"}


def _claim(store: Store, letters: list[dict[str, Any]], replay_id: str, now: datetime) -> set[str]:
    if not letters:
        return set()
    refs = sorted({row["claim_ref"] for row in letters})
    table = pa.table(
        {
            "message_ref": pa.array(refs, pa.string()),
            "replay_id": pa.array([replay_id] * len(refs), pa.string()),
            "claimed_at": pa.array([now] * len(refs), pa.timestamp("us", tz="UTC")),
        }
    )
    with store.transaction(doing="claiming messages for a replay", lane=LANE) as con:
        con.register("incoming_claims", table)
        try:
            return {row[0] for row in con.execute(SQL["claim"]).fetchall()}
        finally:
            con.unregister("incoming_claims")


def _release(store: Store, claim_ref: str, replay_id: str) -> None:
    with store.transaction(doing="releasing a replay claim", lane=LANE) as con:
        con.execute(SQL["release_claim"], {"ref": claim_ref, "replay_id": replay_id})


def _remove(
    store: Store, outcomes: list[dict[str, Any]], config: ReplayConfig, now: datetime
) -> int:
    """Take published copies out of their dead-letter queues (deadletters.remove_replayed)."""
    by_queue: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for item in outcomes:
        if item["outcome"] == "published":
            row = item["row"]
            by_queue.setdefault((row["broker"], row["vhost"], row["queue"]), []).append(row)
    removed_refs: list[str] = []
    if not by_queue or config.rules is None:
        return 0
    with httpx.Client(timeout=config.timeout) as http:
        for (broker, vhost, queue), rows in by_queue.items():
            # earlier replays' copies still there count too: a head run may now reach them
            rows = rows + store.query(
                SQL["removable"],
                {"broker": broker, "vhost": vhost, "queue": queue},
                doing="reading replayed dead letters",
            )
            try:
                taken = remove_replayed(
                    client=http,
                    url=broker,
                    vhost=vhost,
                    queue=queue,
                    replayed=[(row["message_id"], row["deaths"]) for row in rows],
                    rules=config.rules,
                    auth=config.auth,
                    window=len(rows) + 1,
                )
            except httpx.HTTPError as exc:
                log.warning("could not take replayed messages out of %s: %s", queue, exc)
                continue
            gone = set(taken)
            removed_refs += list(
                {r["message_ref"] for r in rows if (r["message_id"], r["deaths"]) in gone}
            )
    if removed_refs:
        with store.transaction(doing="marking removed dead letters", lane=LANE) as con:
            con.execute(SQL["mark_removed"], {"refs": removed_refs, "now": now})
    return len(removed_refs)


def _audit(
    store: Store,
    exception_id: int,
    token: str,
    replay_id: str,
    by: str,
    outcomes: list[dict[str, Any]],
    removed: int,
    left: int,
    now: datetime,
) -> dict[str, Any]:
    rows = [item["row"] for item in outcomes]
    table = pa.table(
        {
            "replay_id": pa.array([replay_id] * len(rows), pa.string()),
            "token": pa.array([token] * len(rows), pa.string()),
            "exception_id": pa.array([exception_id] * len(rows), pa.int64()),
            "message_ref": pa.array([r["message_ref"] for r in rows], pa.string()),
            "message_id": pa.array([r["message_id"] for r in rows], pa.string()),
            "exchange": pa.array([r["exchange"] for r in rows], pa.string()),
            "routing_key": pa.array([r["routing_key"] for r in rows], pa.string()),
            "outcome": pa.array([o["outcome"] for o in outcomes], pa.string()),
            "error": pa.array([o["error"] for o in outcomes], pa.string()),
            "replayed_by": pa.array([by] * len(rows), pa.string()),
            "replayed_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
        }
    )
    counts: dict[str, int] = {}
    for item in outcomes:
        counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
    with store.transaction(
        doing=f"recording a replay of exception {exception_id}", lane=LANE
    ) as con:
        if rows:
            con.register("incoming_replays", table)
            try:
                con.execute(SQL["insert_replays"])
            finally:
                con.unregister("incoming_replays")
        workflow.add_history(
            con,
            exception_id=exception_id,
            at=now,
            actor=by,
            action="replayed",
            detail={"replay_id": replay_id, "outcomes": counts, "removed_from_queue": removed},
            to_status="replayed" if counts.get("published") and left == 0 else None,
        )
    return {
        "replay_id": replay_id,
        "exception_id": exception_id,
        "published": counts.get("published", 0),
        "unroutable": counts.get("unroutable", 0),
        "failed": counts.get("failed", 0),
        "already_replayed": counts.get("already_replayed", 0),
        "removed_from_queue": removed,
        "messages": [{k: item[k] for k in ("message_id", "outcome", "error")} for item in outcomes],
    }


def _why_refused(store: Store, token: str, exception_id: int, now: datetime) -> str:
    rows = store.query(SQL["plan_state"], {"token": token}, doing="reading a replay plan")
    if not rows or rows[0]["exception_id"] != exception_id:
        return f"no replay plan {token!r} for exception {exception_id}; ask for a plan first"
    row = rows[0]
    if row["confirmed_at"] is not None:
        return (
            f"replay plan {token!r} was already confirmed by {row['confirmed_by']} at "
            f"{row['confirmed_at'].isoformat()}; nothing was replayed again"
        )
    if row["expires_at"] <= now:
        return (
            f"replay plan {token!r} expired at {row['expires_at'].isoformat()}; ask for a new plan"
        )
    return f"replay plan {token!r} cannot be confirmed now; ask for a new plan"


def _targets(
    store: Store, exception_id: int, config: ReplayConfig
) -> tuple[list[dict[str, Any]], ReplayAction | None]:
    """The exception's dead letters; else its occurrences and the HTTP action replaying them."""
    exception = workflow.get_exception(store=store, exception_id=exception_id)  # 404 if none
    letters = store.query(
        SQL["dead_letters_of"], {"exception_id": exception_id}, doing="reading dead letters"
    )
    action = None if letters else actions.action_for(exception, config.actions)
    if action is not None:
        return actions.targets(store=store, exception_id=exception_id, action=action), action
    return letters, None


def _call(
    store: Store,
    http: httpx.Client,
    action: ReplayAction,
    row: dict[str, Any],
    exception_id: int,
    replay_id: str,
    by: str,
) -> dict[str, Any]:
    """One HTTP replay; the claim goes back when the middleware certainly did nothing."""
    try:
        actions.call(client=http, action=action, target=row, exception_id=exception_id,
                     replay_id=replay_id, by=by)  # fmt: skip
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code < 500:
            _release(store, row["claim_ref"], replay_id)
        return {"outcome": "failed", "error": f"{action.name}: HTTP {exc.response.status_code}"}
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        _release(store, row["claim_ref"], replay_id)
        return {"outcome": "failed", "error": f"{action.name} unreachable: {exc}"}
    except httpx.HTTPError as exc:
        return {"outcome": "failed", "error": f"{action.name}: no answer, may have run: {exc}"}
    return {"outcome": "published"}


def _dead_letter(row: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        broker=row["broker"],
        vhost=row["vhost"],
        queue=row["queue"],
        message_id=row["message_id"],
        correlation_id=row["correlation_id"],
        exchange=row["exchange"],
        routing_key=row["routing_key"],
        from_queue=row["from_queue"],
        reason=row["reason"],
        deaths=row["deaths"],
        died_at=row["died_at"],
        properties=orjson.loads(row["properties"]),
        payload=row["payload"],
        payload_encoding=row["payload_encoding"],
    )
