"""Slack incoming webhook: one message per notice, a line per alert with its link."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alerts.grouping import Notice
from alerts.receivers.webhook import post_json

__all__ = ["INTEGRATION", "text"]


def text(notice: Notice, *, external_url: str, send_resolved: bool = True) -> str | None:
    """The message text: a headline, then each alert's summary (linked to its journeys)."""
    resolved = list(notice.resolved) if send_resolved else []
    if not notice.firing and not resolved:
        return None
    head = f"[FIRING:{len(notice.firing)}]" if notice.firing else f"[RESOLVED:{len(resolved)}]"
    group = " ".join(f"{k}={v}" for k, v in notice.group_labels.items())
    lines = [f"*{head} {group}*".strip()]
    base = external_url.rstrip("/")
    for alert, mark in [(a, ":red_circle:") for a in notice.firing] + [
        (a, ":white_check_mark:") for a in resolved
    ]:
        summary = alert.summary
        if alert.link:
            summary = f"<{base}{alert.link}|{summary}>"
        owner = f" (ack {alert.acked_by})" if alert.acked_by else ""
        lines.append(f"{mark} {summary}{owner}")
    return "\n".join(lines)


class Slack:
    def render(
        self,
        notice: Notice,
        target: Mapping[str, Any],
        *,
        external_url: str,
        now: datetime,  # noqa: ARG002
    ) -> Any | None:
        body = text(
            notice, external_url=external_url, send_resolved=bool(target.get("send_resolved", True))
        )
        if body is None:
            return None
        payload: dict[str, Any] = {"text": body}
        if target.get("channel"):
            payload["channel"] = target["channel"]
        return payload

    def send(self, payload: Any, target: Mapping[str, Any]) -> None:
        post_json(str(target["url"]), payload, timeout=float(target.get("timeout", 10)))


INTEGRATION = Slack()
