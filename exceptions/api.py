"""The exceptions HTTP face: the inbox, one exception, its workflow, replay, KPIs, DLQs."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from exceptions import replay, service, workflow
from exceptions.routing import Domain, Origin
from tower.deps import ClockDep, StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/exceptions", tags=["exceptions"])

Status = Literal["open", "acknowledged", "in_progress", "resolved", "replayed"]
Name = Annotated[str, Field(min_length=1, max_length=200, description="Who does this.")]


class Page(BaseModel):
    items: list[dict[str, Any]]


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Name
    note: str | None = Field(None, max_length=4000)


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Name
    owner: str | None = Field(None, min_length=1, max_length=200, description="A team.")
    assignee: str | None = Field(None, min_length=1, max_length=200, description="A person.")


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Name
    text: str = Field(min_length=1, max_length=4000)


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Name
    message_ids: list[str] | None = Field(
        None, min_length=1, description="The messages to replay; none: all of the exception's."
    )


class ReplayConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Name
    token: str = Field(min_length=1, max_length=100, description="The plan's token.")


@router.get("", response_model=Page)
def list_exceptions(
    store: StoreDep,
    status: Status | None = None,
    owner: str | None = None,
    domain: Domain | None = None,
    facility: str | None = None,
    partner: str | None = None,
    origin: Origin | None = None,
    journey: Annotated[int | None, Query(description="Only those linked to this journey.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page:
    """The exception inbox, filtered; most recently seen first."""
    return Page(
        items=service.list_exceptions(
            store=store,
            status=status,
            owner=owner,
            domain=domain,
            facility=facility,
            partner=partner,
            origin=origin,
            journey=journey,
            limit=limit,
        )
    )


@router.get("/kpis")
def get_kpis(
    store: StoreDep,
    clock: ClockDep,
    since: Annotated[AwareDatetime | None, Query(description="Default: 24 hours ago.")] = None,
) -> dict[str, Any]:
    """Exception rate per domain, time to acknowledge and to resolve, replay success rate."""
    now = clock()
    return service.kpis(store=store, since=since or now - timedelta(hours=24), now=now)


@router.get("/dead-letter-queues", response_model=Page)
def get_dead_letter_queues(store: StoreDep, clock: ClockDep) -> Page:
    """Each dead-letter queue the tower reads: messages and the oldest one's age."""
    return Page(items=service.dead_letter_queues(store=store, now=clock()))


@router.get("/{exception_id}")
def get_exception(exception_id: int, store: StoreDep) -> dict[str, Any]:
    """One exception: journeys, newest occurrences, dead letters (raw), full history."""
    return service.exception_detail(store=store, exception_id=exception_id)


def _move(status: str) -> Any:
    def handler(exception_id: int, body: Move, store: StoreDep, clock: ClockDep) -> Any:
        return workflow.move(
            store=store,
            exception_id=exception_id,
            status=status,
            by=body.by,
            now=clock(),
            note=body.note,
        )

    handler.__doc__ = f"Mark the exception {status.replace('_', ' ')}."
    return handler


router.post("/{exception_id}/ack", name="ack")(_move("acknowledged"))
router.post("/{exception_id}/start", name="start")(_move("in_progress"))
router.post("/{exception_id}/resolve", name="resolve")(_move("resolved"))


@router.post("/{exception_id}/assign")
def assign(exception_id: int, body: Assign, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Give the exception to another owner team and/or a person."""
    return workflow.assign(
        store=store,
        exception_id=exception_id,
        owner=body.owner,
        assignee=body.assignee,
        by=body.by,
        now=clock(),
    )


@router.post("/{exception_id}/comment")
def comment(exception_id: int, body: Comment, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Add a comment to the exception's history."""
    return workflow.comment(
        store=store, exception_id=exception_id, text=body.text, by=body.by, now=clock()
    )


@router.post("/{exception_id}/replay")
def plan_replay(
    exception_id: int, body: ReplayRequest, store: StoreDep, clock: ClockDep
) -> dict[str, Any]:
    """Step one: what would be replayed, and a token to confirm it with (nothing is sent)."""
    return replay.plan(
        store=store,
        exception_id=exception_id,
        message_ids=body.message_ids,
        by=body.by,
        now=clock(),
        config=replay.config_for(store),
    )


@router.post("/{exception_id}/replay/confirm")
async def confirm_replay(
    exception_id: int, body: ReplayConfirm, store: StoreDep, clock: ClockDep
) -> dict[str, Any]:
    """Step two: publish the planned messages (each at most once), paced by the rate limit."""
    result: dict[str, Any] = await run_in_threadpool(
        functools.partial(
            replay.confirm,
            store=store,
            exception_id=exception_id,
            token=body.token,
            by=body.by,
            clock=clock,
            config=replay.config_for(store),
        )
    )
    return result
