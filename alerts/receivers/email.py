"""SMTP e-mail: a plain-text message per notice."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from alerts.exceptions import DeliveryFailed
from alerts.grouping import Notice

__all__ = ["INTEGRATION"]


class Email:
    def render(
        self,
        notice: Notice,
        target: Mapping[str, Any],
        *,
        external_url: str,
        now: datetime,  # noqa: ARG002
    ) -> Any | None:
        resolved = list(notice.resolved) if target.get("send_resolved", True) else []
        if not notice.firing and not resolved:
            return None
        head = f"[FIRING:{len(notice.firing)}]" if notice.firing else f"[RESOLVED:{len(resolved)}]"
        group = " ".join(f"{k}={v}" for k, v in notice.group_labels.items())
        base = external_url.rstrip("/")
        lines = []
        for title, alerts in (("Firing", notice.firing), ("Resolved", resolved)):
            if alerts:
                lines.append(f"{title}:")
            for alert in alerts:
                lines.append(f"- {alert.summary}")
                if alert.link:
                    lines.append(f"  {base}{alert.link}")
        return {"subject": f"{head} {group}".strip(), "body": "\n".join(lines) + "\n"}

    def send(self, payload: Any, target: Mapping[str, Any]) -> None:
        host, _, port = str(target["smarthost"]).rpartition(":")
        mail = EmailMessage()
        mail["Subject"] = payload["subject"]
        mail["From"] = target["from"]
        mail["To"] = ", ".join(target["to"])
        mail.set_content(payload["body"])
        try:
            with smtplib.SMTP(host, int(port), timeout=float(target.get("timeout", 10))) as smtp:
                if target.get("starttls"):
                    smtp.starttls()
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP {target['smarthost']}: {exc}") from exc


INTEGRATION = Email()
