"""Push to a real Alertmanager's /api/v2/alerts (postable alerts: labels, annotations, times).

Alertmanager resolves an alert it has not heard of for `resolve_timeout`, unless endsAt says
otherwise; a firing alert is sent with endsAt at `hold` from now (repeat + group interval by
default), and each repeat moves it on. A resolved alert carries its real end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from alerts.grouping import Notice
from alerts.receivers.webhook import alert_json, post_json, rfc3339

__all__ = ["INTEGRATION"]


class Alertmanager:
    def render(
        self, notice: Notice, target: Mapping[str, Any], *, external_url: str, now: datetime
    ) -> Any | None:
        resolved = list(notice.resolved) if target.get("send_resolved", True) else []
        if not notice.firing and not resolved:
            return None
        hold = timedelta(seconds=float(target.get("hold", 4 * 3600 + 600)))
        until = rfc3339(now + hold)
        alerts = []
        for alert in [*notice.firing, *resolved]:
            shown = alert_json(alert, external_url=external_url)
            alerts.append(
                {
                    "labels": shown["labels"],
                    "annotations": shown["annotations"],
                    "startsAt": shown["startsAt"],
                    "endsAt": until if alert.state == "firing" else shown["endsAt"],
                    "generatorURL": shown["generatorURL"],
                }
            )
        return alerts

    def send(self, payload: Any, target: Mapping[str, Any]) -> None:
        url = str(target["url"]).rstrip("/") + "/api/v2/alerts"
        post_json(url, payload, timeout=float(target.get("timeout", 10)))


INTEGRATION = Alertmanager()
