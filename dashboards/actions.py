"""The few writes the dashboards make, through the alerts service: ack, and silence an alert.

Pages call these from their callbacks; what a person typed is checked here, and a refusal
comes back as ValueError with a message to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from alerts import service
from alerts.models import AckIn, Matcher, SilenceIn
from tower.db import Store

__all__ = ["SILENCE_FOR", "ack", "acting_as", "signed_in", "silence"]

# the durations a silence from the on-call page may last, as offered
SILENCE_FOR: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "3d": timedelta(days=3),
}


def signed_in() -> tuple[str, str] | None:
    """(user, role) of the person signed in, as the tower's login guard passes them on."""
    from flask import has_request_context, request

    if not has_request_context() or "X-Tower-User" not in request.headers:
        return None  # sign-in is off (TOWER_AUTH_REQUIRED=false), or no request at all
    return request.headers["X-Tower-User"], request.headers.get("X-Tower-Role", "viewer")


def acting_as(by: str | None) -> str:
    """Who makes a change from a page: the signed-in operator, or (sign-in off) the typed name.

    Raises ValueError with the message to show when a viewer tries, or no name was typed.
    """
    return _who(by)


def _who(by: str | None) -> str:
    user = signed_in()
    if user is not None:
        name, role = user
        if role not in ("operator", "admin"):
            raise ValueError(
                f"{name} signs in as a {role}: changing alerts and exceptions needs an operator."
            )
        return name  # the signed-in user, whatever was typed
    name = (by or "").strip()
    if not name:
        raise ValueError("Type your name first: acks and silences say who made them.")
    return name


def ack(*, store: Store, fingerprint: str, by: str | None, now: datetime) -> dict[str, Any]:
    """Acknowledge a pending or firing alert as `by` (raises AlertNotFound when it is gone)."""
    ack_in = AckIn(by=_who(by), owner=None)
    return service.ack(store=store, fingerprint=fingerprint, ack_in=ack_in, now=now)


def silence(
    *,
    store: Store,
    labels: Mapping[str, str],
    by: str | None,
    duration: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Silence every alert with exactly these labels for one of SILENCE_FOR's durations."""
    who = _who(by)
    if duration not in SILENCE_FOR:
        raise ValueError(f"Pick how long to silence: one of {', '.join(SILENCE_FOR)}.")
    if not labels:
        raise ValueError("This alert has no labels to silence it by.")
    body = SilenceIn(
        matchers=[Matcher(name=name, value=value) for name, value in sorted(labels.items())],
        starts_at=now,
        ends_at=now + SILENCE_FOR[duration],
        created_by=who,
        comment="from the on-call page",
    )
    return service.create_silence(store=store, silence_in=body, now=now)
