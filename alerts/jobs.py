"""The alerting job: evaluate SLAs, move alerts through their lifecycle, group, notify, deliver.

One `run_once(now=...)` per scheduler tick. Everything a cycle decides is stored in one
transaction before anything is sent, so a restart resends what was pending and nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from alerts import grouping, lifecycle, muting, service
from alerts.exceptions import DeliveryFailed
from alerts.inhibition import inhibited_by
from alerts.models import AlertingConfig, Receiver
from alerts.receivers import INTEGRATIONS, Integration
from alerts.service import NewNotification
from alerts.silences import silenced_by
from sla import jobs as sla_jobs
from sla.models import SlaFile
from sla.rules import Evaluation
from tower.db import Store

__all__ = ["CycleReport", "deliver_due", "run_once"]

log = logging.getLogger(__name__)
# The tower's own spans (tower/selfobs/telemetry.py routes them); a no-op while telemetry is off.
tracer = trace.get_tracer("tower.alerts")


@dataclass(slots=True)
class CycleReport:
    evaluation: Evaluation
    transitions: int = 0
    notifications: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    firing: list[str] = field(default_factory=list)


def run_once(
    *,
    store: Store,
    definitions: SlaFile,
    stages: dict[str, list[str]],
    config: AlertingConfig,
    now: datetime,
    integrations: Mapping[str, Integration] = INTEGRATIONS,
) -> CycleReport:
    """One full cycle at `now`: SLAs, alerts, groups, notifications, deliveries."""
    evaluation = sla_jobs.run_once(store=store, definitions=definitions, stages=stages, now=now)
    previous = service.load_alerts(store=store)
    changed, transitions = lifecycle.step(previous, evaluation.breaches, now=now)
    alerts = {**previous, **{a.fingerprint: a for a in changed}}
    silences = service.load_silences(store=store)
    silenced = {
        fp: ids for fp, a in alerts.items() if (ids := silenced_by(a.labels, silences, now=now))
    }
    inhibited = inhibited_by(alerts.values(), config.inhibit_rules)
    muted = set(silenced) | set(inhibited)
    remuted, mute_events = muting.changes(alerts, silenced, inhibited, now=now)
    changed = list(
        ({a.fingerprint: a for a in changed} | {a.fingerprint: a for a in remuted}).values()
    )
    transitions += mute_events
    groups, notices = grouping.plan(
        config.route,
        service.load_groups(store=store),
        list(alerts.values()),
        muted=muted,
        now=now,
    )
    notifications = [
        n for notice in notices for n in _render(notice, config, integrations, now=now)
    ]
    service.save_cycle(
        store=store,
        alerts=changed,
        transitions=transitions,
        groups=groups,
        notifications=notifications,
        now=now,
    )
    report = CycleReport(
        evaluation=evaluation,
        transitions=len(transitions),
        notifications=len(notifications),
        firing=sorted(a.alertname for a in alerts.values() if a.state == "firing"),
    )
    report.delivered, report.failed_attempts = deliver_due(
        store=store, config=config, now=now, integrations=integrations
    )
    return report


def targets(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
    """Every integration of a receiver as (kind, settings as JSON-ready data)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for kind, configs in (
        ("webhook", receiver.webhook_configs),
        ("slack", receiver.slack_configs),
        ("email", receiver.email_configs),
        ("alertmanager", receiver.alertmanager_configs),
    ):
        for config in configs:
            data = config.model_dump(by_alias=True)  # durations as seconds, not "10s":
            data |= {
                k: v.total_seconds() for k, v in vars(config).items() if isinstance(v, timedelta)
            }
            found.append((kind, orjson.loads(service.to_json(data))))
    return found


def _render(
    notice: grouping.Notice,
    config: AlertingConfig,
    integrations: Mapping[str, Integration],
    *,
    now: datetime,
) -> list[NewNotification]:
    receiver = config.receiver(notice.receiver)
    if receiver is None:
        return []
    rendered = []
    for kind, target in targets(receiver):
        payload = integrations[kind].render(
            notice, target, external_url=config.external_url, now=now
        )
        if payload is not None:
            rendered.append(NewNotification(notice.group_key, receiver.name, kind, target, payload))
    return rendered


def deliver_due(
    *,
    store: Store,
    config: AlertingConfig,
    now: datetime,
    integrations: Mapping[str, Integration] = INTEGRATIONS,
) -> tuple[int, int]:
    """Try every notification that is due; (delivered, failed attempts). Each attempt is stored."""
    delivered = failed = 0
    policy = config.delivery
    for row in service.due_notifications(store=store, now=now):
        attempt = int(row["attempts"]) + 1
        span = tracer.start_span(
            "tower.notification.attempt",
            attributes={
                "tower.notification.id": int(row["notification_id"]),
                "tower.notification.receiver": row["receiver"],
                "tower.notification.integration": row["integration"],
                "tower.notification.attempt": attempt,
            },
        )
        try:
            with trace.use_span(span, end_on_exit=True, record_exception=False):
                _send(integrations, row, span)
        except DeliveryFailed as exc:
            failed += 1
            backoff = backoff_for(attempt, first=policy.first_retry, cap=policy.max_backoff)
            give_up = now - row["created_at"] + backoff > policy.give_up_after
            log.warning(
                "delivery %s to %s/%s failed (attempt %d): %s",
                row["notification_id"],
                row["receiver"],
                row["integration"],
                attempt,
                exc.reason,
            )
            service.record_attempt(
                store=store,
                notification_id=row["notification_id"],
                attempt=attempt,
                now=now,
                status="failed" if give_up else "pending",
                next_attempt_at=now + backoff,
                status_code=exc.status_code,
                error=exc.reason,
            )
            continue
        delivered += 1
        service.record_attempt(
            store=store,
            notification_id=row["notification_id"],
            attempt=attempt,
            now=now,
            status="sent",
            next_attempt_at=now,
        )
    return delivered, failed


def _send(integrations: Mapping[str, Integration], row: dict[str, Any], span: Any) -> None:
    """One delivery attempt, its outcome on the span."""
    try:
        integrations[row["integration"]].send(row["payload"], row["target"])
    except DeliveryFailed as exc:
        span.set_attribute("tower.notification.outcome", "failed")
        if exc.status_code is not None:
            span.set_attribute("tower.notification.status_code", exc.status_code)
        span.set_status(Status(StatusCode.ERROR, exc.reason))
        raise
    span.set_attribute("tower.notification.outcome", "sent")


def backoff_for(attempt: int, *, first: timedelta, cap: timedelta) -> timedelta:
    """The wait before retry `attempt + 1`: doubling from `first`, at most `cap`."""
    wait: timedelta = first * 2 ** (attempt - 1)
    return min(wait, cap)
