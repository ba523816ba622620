"""Muting, pure: which alerts became (or stopped being) silenced or inhibited this cycle.

A muted alert keeps its lifecycle but is left out of notifications; so that the history says
why an on-call engineer heard nothing, every change of an alert's muting is a history event
(`muted` with the silences or inhibiting alerts, `unmuted` when none is left). Only pending
and firing alerts are judged: a resolved alert's muting is cleared without an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

import orjson

from alerts.lifecycle import Transition
from alerts.models import AlertRecord

__all__ = ["changes", "muted_value"]


def muted_value(silenced: list[str], inhibited: list[str]) -> str | None:
    """The stored form: JSON naming the silences and inhibiting alerts, or None."""
    if not silenced and not inhibited:
        return None
    return orjson.dumps({"silenced_by": silenced, "inhibited_by": inhibited}).decode()


def changes(
    alerts: Mapping[str, AlertRecord],
    silenced: Mapping[str, list[str]],
    inhibited: Mapping[str, list[str]],
    *,
    now: datetime,
) -> tuple[list[AlertRecord], list[Transition]]:
    """The alerts whose muting changed (with it updated) and a history event for each."""
    updated: list[AlertRecord] = []
    events: list[Transition] = []
    for fp, alert in alerts.items():
        live = alert.state in ("pending", "firing")
        value = muted_value(silenced.get(fp, []), inhibited.get(fp, [])) if live else None
        if value == alert.muted:
            continue
        updated.append(replace(alert, muted=value))
        if not live:
            continue
        if value is None:
            detail = "no longer silenced or inhibited: notified again"
            event = "unmuted"
        else:
            detail = _why(silenced.get(fp, []), inhibited.get(fp, []))
            event = "muted"
        events.append(
            Transition(fp, alert.alertname, alert.state, alert.state, now, detail, event=event)
        )
    return updated, events


def _why(silenced: list[str], inhibited: list[str]) -> str:
    parts = []
    if silenced:
        parts.append(f"silenced by {', '.join(silenced)}")
    if inhibited:
        parts.append(f"inhibited by {', '.join(inhibited)}")
    return "; ".join(parts) + ": left out of notifications"
