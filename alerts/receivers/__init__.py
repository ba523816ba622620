"""Receivers: each integration renders a notice into the body it sends, and sends it.

An integration is a pair of functions behind the Integration protocol: `render` (pure: what
will be sent, stored with the notification so a retry after a restart sends the same thing)
and `send` (the I/O; raises DeliveryFailed). INTEGRATIONS maps a kind to its implementation;
pass another mapping to the job to add or replace one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from alerts.grouping import Notice
from alerts.receivers import alertmanager, email, slack, webhook

__all__ = ["INTEGRATIONS", "Integration"]


class Integration(Protocol):
    def render(
        self, notice: Notice, target: Mapping[str, Any], *, external_url: str, now: datetime
    ) -> Any | None:
        """The body to send, or None when there is nothing for this integration."""

    def send(self, payload: Any, target: Mapping[str, Any]) -> None:
        """Deliver or raise DeliveryFailed."""


INTEGRATIONS: dict[str, Integration] = {
    "webhook": webhook.INTEGRATION,
    "slack": slack.INTEGRATION,
    "email": email.INTEGRATION,
    "alertmanager": alertmanager.INTEGRATION,
}
