"""The correlator's HTTP face: journey search, lists, timelines, coverage."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel

from correlator import service
from tower.deps import ClockDep, StoreDep
from tower.exceptions import TowerError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["journeys"])


class JourneyNotFound(TowerError):
    status_code = 404
    code = "not_found"


class JourneyPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = None


@router.get("/journeys/search", response_model=JourneyPage)
def search(
    request: Request,
    store: StoreDep,
    clock: ClockDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=1000,
            description=(
                "Any ID (W-1001, 4500012, SH-77, 1Z...), a wildcard (1Z*), namespace:value, "
                "or field:value terms (kind, stage, status, facility, customer, channel, "
                "source, system, anomaly) AND-ed, with OR and -term. Example: "
                "status:stalled facility:DC-EAST -customer:ACME"
            ),
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> JourneyPage:
    """Journeys an ID or a query finds; a shipment or invoice ID also finds its orders."""
    redactor = getattr(request.app.state, "redactor", None)  # a hashed e-mail is found by it
    found = service.search_journeys(
        store=store, q=q, now=clock(), limit=limit, id_forms=redactor.id_forms if redactor else None
    )
    return JourneyPage(items=found)


@router.get("/journeys", response_model=JourneyPage)
def list_journeys(
    store: StoreDep,
    clock: ClockDep,
    kind: str | None = None,
    stage: str | None = None,
    status: Literal["on_track", "at_risk", "stalled", "failed", "done"] | None = None,
    facility: str | None = None,
    customer: str | None = None,
    channel: str | None = None,
    sort: Literal[
        "last_event_at", "started_at", "stage_entered_at", "value", "journey_id"
    ] = "last_event_at",
    order: Literal["asc", "desc"] = "desc",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> JourneyPage:
    """Journeys filtered by their dimensions, sorted, a page at a time."""
    filters = {
        "kind": kind,
        "stage": stage,
        "status": status,
        "facility": facility,
        "customer": customer,
        "channel": channel,
    }
    items, next_cursor = service.list_journeys(
        store=store,
        now=clock(),
        filters=filters,
        sort=sort,
        order=order,
        cursor=cursor,
        limit=limit,
    )
    return JourneyPage(items=items, next_cursor=next_cursor)


@router.get("/journeys/{journey_id}")
def get_journey(journey_id: int, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """One journey: stages with hop latencies, anomalies, every event and span, related journeys."""
    journey = service.journey_detail(store=store, journey_id=journey_id, now=clock())
    if journey is None:
        raise JourneyNotFound(f"no journey {journey_id}")
    return journey


@router.get("/correlation/coverage")
def get_coverage(store: StoreDep) -> dict[str, Any]:
    """Per source: the share of events stitched into journeys that span two or more systems."""
    rows = service.coverage(store=store)
    total = sum(r["events"] for r in rows)
    multi = sum(r["multi_system"] for r in rows)
    return {
        "coverage": round(multi / total, 4) if total else None,
        "events": total,
        "unlinked": sum(r["unlinked"] for r in rows),
        "sources": rows,
    }


@router.get("/correlation/unlinked", response_model=JourneyPage)
def get_unlinked(
    store: StoreDep,
    source: str | None = None,
    cursor: Annotated[str | None, Query(pattern=r"^\d+$")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> JourneyPage:
    """Events that joined no journey: visible, never dropped. Newest first."""
    items, next_seq = service.unlinked_events(
        store=store, source=source, before_seq=int(cursor) if cursor else None, limit=limit
    )
    return JourneyPage(items=items, next_cursor=None if next_seq is None else str(next_seq))


@router.get("/inventory/lag", tags=["inventory"])
def get_inventory_lag(
    store: StoreDep,
    clock: ClockDep,
    facility: str | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Default: the last 24 hours.")] = None,
) -> dict[str, Any]:
    """Hop lag p50/p95 per facility and system pair (WMS -> middleware -> ERP -> channel)."""
    start = since or clock() - timedelta(hours=24)
    rows = service.inventory_lag(store=store, since=start, facility=facility)
    return {"since": start, "hops": rows}


@router.get("/inventory/drift", tags=["inventory"])
def get_inventory_drift(
    store: StoreDep,
    clock: ClockDep,
    facility: str | None = None,
    min_drift: Annotated[float, Query(ge=0, description="Smallest gap to show.")] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """SKUs whose WMS, ERP and channel positions disagree: by how much, and for how long."""
    return {
        "items": service.inventory_drift(
            store=store, now=clock(), facility=facility, min_drift=min_drift, limit=limit
        )
    }
