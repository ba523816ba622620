"""Alertmanager-compatible webhook: the version-4 JSON message Alertmanager POSTs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from alerts.exceptions import DeliveryFailed
from alerts.grouping import Notice
from alerts.models import AlertRecord

__all__ = ["INTEGRATION", "alert_json", "message", "post_json", "rfc3339"]

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing
USER_AGENT = "ControlTower/0.1 (Alertmanager-compatible webhook)"


def rfc3339(value: datetime | None) -> str:
    if value is None:
        return GO_ZERO_TIME
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_json(alert: AlertRecord, *, external_url: str) -> dict[str, Any]:
    """One alert as Alertmanager shows it in a webhook message."""
    firing = alert.state == "firing"
    query = urlencode({"fingerprint": alert.fingerprint})
    return {
        "status": "firing" if firing else "resolved",
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(alert.starts_at or alert.active_at),
        "endsAt": GO_ZERO_TIME if firing else rfc3339(alert.ends_at),
        "generatorURL": f"{external_url.rstrip('/')}/api/v1/alerts?{query}",
        "fingerprint": alert.fingerprint,
    }


def message(
    notice: Notice,
    *,
    external_url: str,
    send_resolved: bool = True,
    max_alerts: int = 0,
) -> dict[str, Any] | None:
    """The version-4 message for a notice (None when only resolved alerts and not sending them)."""
    alerts = list(notice.firing) + (list(notice.resolved) if send_resolved else [])
    if not notice.firing and not alerts:
        return None
    rendered = [alert_json(a, external_url=external_url) for a in alerts]
    truncated = 0
    if max_alerts and len(rendered) > max_alerts:
        truncated = len(rendered) - max_alerts
        rendered = rendered[:max_alerts]
    return {
        "version": "4",
        "groupKey": notice.group_key,
        "truncatedAlerts": truncated,
        "status": "firing" if notice.firing else "resolved",
        "receiver": notice.receiver,
        "groupLabels": dict(notice.group_labels),
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([a.annotations for a in alerts]),
        "externalURL": external_url,
        "notification_reason": notice.reason,
        "alerts": rendered,
    }


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def post_json(url: str, body: Any, *, timeout: float) -> None:
    """POST JSON; anything but 2xx (or no answer) raises DeliveryFailed."""
    try:
        response = httpx.post(url, json=body, timeout=timeout, headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise DeliveryFailed(
            f"{url} answered {response.status_code}: {response.text[:200]}",
            status_code=response.status_code,
        )


class Webhook:
    def render(
        self,
        notice: Notice,
        target: Mapping[str, Any],
        *,
        external_url: str,
        now: datetime,  # noqa: ARG002
    ) -> Any | None:
        return message(
            notice,
            external_url=external_url,
            send_resolved=bool(target.get("send_resolved", True)),
            max_alerts=int(target.get("max_alerts", 0)),
        )

    def send(self, payload: Any, target: Mapping[str, Any]) -> None:
        post_json(str(target["url"]), payload, timeout=float(target.get("timeout", 10)))


INTEGRATION = Webhook()
