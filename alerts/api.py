"""The alerts HTTP face: alerts with filters, ack, history, notifications, silences."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from alerts import service
from alerts.models import AckIn, AlertingConfig, Matcher, SilenceIn
from tower.deps import ClockDep, StoreDep
from tower.exceptions import TowerError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class BadFilter(TowerError):
    status_code = 400
    code = "bad_filter"


StateName = Literal["pending", "firing", "resolved", "inactive"]


def get_alerting(request: Request) -> AlertingConfig:
    """The alerting file the app runs with (`app.state.alerting`); none: the defaults."""
    config = getattr(request.app.state, "alerting", None)
    return config if isinstance(config, AlertingConfig) else AlertingConfig()


AlertingDep = Annotated[AlertingConfig, Depends(get_alerting)]


@router.get("/alerts")
def list_alerts(
    store: StoreDep,
    clock: ClockDep,
    alerting: AlertingDep,
    state: Annotated[list[StateName] | None, Query(description="Repeat for several.")] = None,
    alertname: str | None = None,
    filter: Annotated[
        list[str] | None,
        Query(description='Label matchers, e.g. facility=DC-EAST or severity=~"crit.*"'),
    ] = None,
    silenced: Annotated[bool | None, Query(description="Only (not) silenced alerts.")] = None,
    inhibited: Annotated[bool | None, Query(description="Only (not) inhibited alerts.")] = None,
) -> dict[str, Any]:
    """Alerts, firing first: labels, summary, link to the affected journeys, ack and owner."""
    try:
        matchers = [Matcher.parse(text) for text in filter or []]
    except ValueError as exc:
        raise BadFilter(str(exc)) from exc
    items = service.list_alerts(
        store=store,
        now=clock(),
        states=list(state) if state else None,
        alertname=alertname,
        matchers=matchers,
        inhibit_rules=alerting.inhibit_rules,
    )
    if silenced is not None:
        items = [a for a in items if bool(a["silenced_by"]) == silenced]
    if inhibited is not None:
        items = [a for a in items if bool(a["inhibited_by"]) == inhibited]
    return {"items": items}


@router.post("/alerts/{fingerprint}/ack")
def ack_alert(fingerprint: str, body: AckIn, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Acknowledge a pending or firing alert: who, owner, comment. Stops its repeats."""
    return service.ack(store=store, fingerprint=fingerprint, ack_in=body, now=clock())


@router.get("/alerts/history")
def alert_history(
    store: StoreDep,
    fingerprint: str | None = None,
    since: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> dict[str, Any]:
    """Every state change, acknowledgement and notification, newest first."""
    return {
        "items": service.history(store=store, fingerprint=fingerprint, since=since, limit=limit)
    }


@router.get("/alerts/notifications")
def notifications(
    store: StoreDep,
    status: Literal["pending", "sent", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> dict[str, Any]:
    """Notifications and their delivery state (attempts, last error)."""
    return {"items": service.list_notifications(store=store, status=status, limit=limit)}


@router.get("/silences", tags=["silences"])
def list_silences(store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Every silence with its state at now: pending, active or expired."""
    now = clock()
    return {
        "items": [
            {
                "silence_id": s.silence_id,
                "matchers": [m.model_dump() for m in s.matchers],
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "created_by": s.created_by,
                "comment": s.comment,
                "created_at": s.created_at,
                "state": s.state(now),
            }
            for s in service.load_silences(store=store)
        ]
    }


@router.post("/silences", tags=["silences"], status_code=201)
def create_silence(body: SilenceIn, store: StoreDep, clock: ClockDep) -> dict[str, Any]:
    """Mute alerts whose labels match every matcher, from starts_at until ends_at."""
    now = clock()
    if body.ends_at <= (body.starts_at or now):
        raise BadFilter("ends_at must be after starts_at (or now)")
    return service.create_silence(store=store, silence_in=body, now=now)


@router.delete("/silences/{silence_id}", tags=["silences"], status_code=204)
def expire_silence(silence_id: str, store: StoreDep, clock: ClockDep) -> Response:
    """Expire a silence now (it stays listed, as expired)."""
    service.expire_silence(store=store, silence_id=silence_id, now=clock())
    return Response(status_code=204)
