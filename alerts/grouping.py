"""Routing and grouping, pure: which alerts are notified to whom, together, and when.

Alertmanager's rules: an alert walks the route tree (the first matching child route takes it
unless that route says `continue`); its route's `group_by` labels make the group. A new group
waits `group_wait` before its first notification, then looks again every `group_interval`
and notifies when its set of firing alerts changed or an alert resolved, or when
`repeat_interval` has passed since the last notification. What Alertmanager lacks: once every
firing alert of a group is acknowledged, the group is not repeated (changes still notify).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from alerts.models import AlertRecord, Route

__all__ = ["GroupState", "Notice", "group_of", "plan", "routes_for"]


@dataclass(frozen=True, slots=True)
class GroupState:
    """A notification group as stored (a row of `alert_groups`)."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    created_at: datetime
    next_flush_at: datetime
    last_notified_at: datetime | None = None
    notified_firing: list[str] = field(default_factory=list)
    notified_resolved: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification to send: a group's firing and newly resolved alerts."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    firing: list[AlertRecord]
    resolved: list[AlertRecord]
    reason: str


def routes_for(route: Route, labels: dict[str, str], *, key: str = "{}") -> list[tuple[str, Route]]:
    """The routes (with their keys) that take an alert with these labels."""
    taken: list[tuple[str, Route]] = []
    for child in route.routes:
        if all(m.matches(labels) for m in child.parsed_matchers()):
            child_key = key + "/{" + ",".join(str(m) for m in child.parsed_matchers()) + "}"
            taken.extend(routes_for(inherit(route, child), labels, key=child_key))
            if not child.continue_:
                break
    return taken or [(key, route)]


def inherit(parent: Route, child: Route) -> Route:
    """A child route takes its parent's receiver and timings unless it sets its own."""
    own = {name: getattr(child, name) for name in child.model_fields_set}
    own |= {"matchers": child.matchers, "routes": child.routes, "continue_": child.continue_}
    return parent.model_copy(update=own)


def group_of(route_key: str, route: Route, labels: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The group key (Alertmanager's form: route key:{labels}) and the group's labels."""
    if "..." in route.group_by:
        group_labels = dict(sorted(labels.items()))
    else:
        group_labels = {n: labels[n] for n in sorted(route.group_by) if n in labels}
    inner = ",".join(f'{n}="{v}"' for n, v in group_labels.items())
    return f"{route_key}:{{{inner}}}", group_labels


def plan(
    route: Route,
    groups: dict[str, GroupState],
    alerts: list[AlertRecord],
    *,
    muted: set[str],
    now: datetime,
) -> tuple[dict[str, GroupState], list[Notice]]:
    """The groups after this cycle (absent: deleted) and the notifications it sends."""
    members: dict[str, list[AlertRecord]] = {}
    routes: dict[str, tuple[Route, dict[str, str]]] = {}
    for alert in alerts:
        if alert.state not in ("firing", "resolved") or alert.fingerprint in muted:
            continue
        for route_key, taken in routes_for(route, alert.labels):
            if taken.receiver is None:
                continue
            key, group_labels = group_of(route_key, taken, alert.labels)
            members.setdefault(key, []).append(alert)
            routes[key] = (taken, group_labels)

    after: dict[str, GroupState] = {}
    notices: list[Notice] = []
    for key in sorted(set(groups) | set(members)):
        group = groups.get(key)
        alerts_in = members.get(key, [])
        firing = sorted((a for a in alerts_in if a.state == "firing"), key=_order)
        if group is None:
            if not firing:
                continue  # only resolved alerts that were never notified: nothing to say
            taken, group_labels = routes[key]
            group = GroupState(
                group_key=key,
                receiver=str(taken.receiver),
                group_labels=group_labels,
                created_at=now,
                next_flush_at=now + taken.group_wait,
            )
        if now < group.next_flush_at:
            after[key] = group
            continue
        settings = routes[key][0] if key in routes else None
        told = set(group.notified_firing)
        resolved = sorted(
            (
                a
                for a in alerts_in
                if a.state == "resolved"
                and a.fingerprint in told
                and a.fingerprint not in group.notified_resolved
            ),
            key=_order,
        )
        firing_fps = [a.fingerprint for a in firing]
        changed = set(firing_fps) != told - {a.fingerprint for a in resolved} or bool(resolved)
        changed = changed and bool(firing or resolved)
        repeat = (
            settings is not None
            and bool(firing)
            and group.last_notified_at is not None
            and now - group.last_notified_at >= settings.repeat_interval
            and any(a.acked_at is None for a in firing)
        )
        if changed or repeat:
            notices.append(
                Notice(
                    group_key=key,
                    receiver=group.receiver,
                    group_labels=group.group_labels,
                    firing=firing,
                    resolved=resolved,
                    reason="updated" if changed else "repeat",
                )
            )
            group = replace(
                group,
                last_notified_at=now,
                notified_firing=firing_fps,
                notified_resolved=[a.fingerprint for a in resolved],
            )
        if not firing:
            continue  # everything resolved (and said so): the group ends
        interval = settings.group_interval if settings is not None else None
        if interval is None:
            continue
        after[key] = replace(group, next_flush_at=now + interval)
    return after, notices


def _order(alert: AlertRecord) -> tuple[str, str]:
    return alert.alertname, alert.fingerprint
