"""The alert lifecycle, pure: breaches seen at `now` move stored alerts between states.

Prometheus semantics: an alert is identified by its labels (fingerprint); a new breach is
`pending` until it has held for its `for`, then `firing`; a pending alert whose breach ends is
dropped (`inactive`); a firing alert whose breach ends stays firing for `keep_firing_for`, then
is `resolved`. A breach that returns after that starts a new episode (ack cleared, owner kept).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.models import AlertRecord, State
from sla.rules import Breach

__all__ = ["Transition", "fingerprint", "step"]

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
SEPARATOR = 0xFF
MASK = (1 << 64) - 1


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint: FNV-1a 64 over sorted name, 0xff, value, 0xff; 16 hex digits."""
    value = FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode(), bytes([SEPARATOR]), labels[name].encode(), bytes([SEPARATOR])):
            for byte in chunk:
                value = ((value ^ byte) * FNV_PRIME) & MASK
    return f"{value:016x}"


@dataclass(frozen=True, slots=True)
class Transition:
    fingerprint: str
    alertname: str
    from_state: State | None
    to_state: State
    at: datetime
    detail: str
    event: str = "state"  # or muted / unmuted (alerts/muting.py)


def step(
    previous: dict[str, AlertRecord], breaches: list[Breach], *, now: datetime
) -> tuple[list[AlertRecord], list[Transition]]:
    """The alerts to store after this evaluation, and every state change it caused."""
    records: dict[str, AlertRecord] = {}
    transitions: list[Transition] = []

    def move(record: AlertRecord, to: State, detail: str, was: State | None) -> None:
        transitions.append(Transition(record.fingerprint, record.alertname, was, to, now, detail))

    for breach in breaches:
        fp = fingerprint(breach.labels)
        if fp in records:  # two groups of one SLA with the same labels: keep the first
            continue
        old = previous.get(fp)
        fresh = old is None or old.state in ("resolved", "inactive")
        record = _from_breach(breach, fp, now=now, old=old, fresh=fresh)
        if fresh:
            move(record, "pending", breach.summary, old.state if old else None)
        if record.state == "pending" and now - record.active_at >= breach.for_:
            record.state = "firing"
            record.starts_at = now
            move(record, "firing", breach.summary, "pending")
        records[fp] = record

    for fp, old in previous.items():
        if fp in records or old.state in ("resolved", "inactive"):
            continue
        if old.state == "pending":
            gone = replace(old, state="inactive", ends_at=now, updated_at=now)
            move(gone, "inactive", "the breach ended before its `for` elapsed", "pending")
            records[fp] = gone
        elif now - old.last_seen_at >= timedelta(seconds=old.keep_firing_seconds):
            resolved = replace(old, state="resolved", ends_at=now, updated_at=now)
            move(resolved, "resolved", "the breach ended", "firing")
            records[fp] = resolved
    return list(records.values()), transitions


def _from_breach(
    breach: Breach, fp: str, *, now: datetime, old: AlertRecord | None, fresh: bool
) -> AlertRecord:
    annotations = {**breach.annotations, "summary": breach.summary}
    if breach.link:
        annotations["link"] = breach.link
    if breach.sample:
        annotations["sample"] = ", ".join(breach.sample)
    return AlertRecord(
        fingerprint=fp,
        alertname=breach.name,
        labels=breach.labels,
        annotations=annotations,
        state="pending" if fresh or old is None else old.state,
        active_at=now if fresh or old is None else old.active_at,
        starts_at=None if fresh or old is None else old.starts_at,
        ends_at=None,
        last_seen_at=now,
        summary=breach.summary,
        value=breach.value,
        threshold=breach.threshold,
        affected=breach.affected,
        amount=breach.amount,
        currency=breach.currency,
        link=breach.link,
        for_seconds=breach.for_.total_seconds(),
        keep_firing_seconds=breach.keep_firing_for.total_seconds(),
        owner=old.owner if old else None,
        muted=old.muted if old else None,
        acked_by=None if fresh or old is None else old.acked_by,
        acked_at=None if fresh or old is None else old.acked_at,
        ack_comment=None if fresh or old is None else old.ack_comment,
        updated_at=now,
    )
