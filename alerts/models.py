"""Alerting configuration (routes, receivers), matchers, silences and the stored alert record.

The configuration mirrors Alertmanager's (route, group_by, group_wait, group_interval,
repeat_interval, receivers with webhook/slack/email configs) so that people who know it can
read it. See docs/alerts.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tower.durations import Duration
from tower.yamlfile import load_yaml_model

__all__ = [
    "AckIn",
    "AlertRecord",
    "AlertingConfig",
    "AlertmanagerConfig",
    "DeliveryPolicy",
    "EmailConfig",
    "InhibitRule",
    "Matcher",
    "Receiver",
    "Route",
    "SilenceIn",
    "SlackConfig",
    "State",
    "WebhookConfig",
    "load_alerting",
]

State = Literal["pending", "firing", "resolved", "inactive"]
MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"?(.*?)\"?\s*$")


class Matcher(BaseModel):
    """label op value; op is = != =~ !~ (regexes match the whole value, as in Alertmanager)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str

    @model_validator(mode="after")
    def _regex_compiles(self) -> Self:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"{self.value!r} is not a regular expression: {exc}") from exc
        return self

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """'facility=~"DC-.*"' -> Matcher(name='facility', op='=~', value='DC-.*')."""
        found = MATCHER.match(text)
        if found is None:
            raise ValueError(f"{text!r} is not a matcher; write e.g. facility=DC-EAST")
        name, op, value = found.groups()
        return cls(name=name, op=op, value=value)  # type: ignore[arg-type]

    def matches(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.name, "")
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        hit = re.fullmatch(self.value, value) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


class _Integration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    send_resolved: bool = True


class WebhookConfig(_Integration):
    """POSTs Alertmanager's version-4 JSON message."""

    url: str
    max_alerts: int = Field(0, ge=0, description="0: all; more are counted in truncatedAlerts.")
    timeout: Duration = timedelta(seconds=10)


class SlackConfig(_Integration):
    """A Slack incoming webhook."""

    url: str = Field(description="https://hooks.slack.com/services/...")
    channel: str | None = None
    send_resolved: bool = True
    timeout: Duration = timedelta(seconds=10)


class EmailConfig(_Integration):
    """Plain SMTP; `smarthost` is host:port."""

    to: list[str] = Field(min_length=1)
    from_: str = Field(alias="from")
    smarthost: str = Field(pattern=r"^[^:]+:\d+$")
    starttls: bool = False
    send_resolved: bool = True
    timeout: Duration = timedelta(seconds=10)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AlertmanagerConfig(_Integration):
    """Pushes the alerts to a real Alertmanager's /api/v2/alerts."""

    url: str = Field(description="The Alertmanager's base URL, e.g. http://am:9093")
    timeout: Duration = timedelta(seconds=10)


class Receiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    webhook_configs: list[WebhookConfig] = Field(default_factory=list)
    slack_configs: list[SlackConfig] = Field(default_factory=list)
    email_configs: list[EmailConfig] = Field(default_factory=list)
    alertmanager_configs: list[AlertmanagerConfig] = Field(default_factory=list)


class Route(BaseModel):
    """Which receiver gets which alerts, grouped how, notified how often."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    receiver: str | None = None
    matchers: list[str] = Field(default_factory=list, description='e.g. severity="critical"')
    group_by: list[str] = Field(default_factory=lambda: ["alertname", "facility"])
    group_wait: Duration = timedelta(seconds=30)
    group_interval: Duration = timedelta(minutes=5)
    repeat_interval: Duration = timedelta(hours=4)
    continue_: bool = Field(False, alias="continue")
    routes: list[Route] = Field(default_factory=list)

    @model_validator(mode="after")
    def _matchers_parse(self) -> Self:
        for text in self.matchers:
            Matcher.parse(text)
        return self

    def parsed_matchers(self) -> list[Matcher]:
        return [Matcher.parse(text) for text in self.matchers]


class DeliveryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    first_retry: Duration = timedelta(seconds=10)
    max_backoff: Duration = timedelta(minutes=5)
    give_up_after: Duration = timedelta(hours=24)


class InhibitRule(BaseModel):
    """Alertmanager's inhibit rule: a firing source alert mutes the target alerts it equals.

    A target (every `target_matchers` matches) is muted while an alert matching every
    `source_matchers` fires with the same values (absent: empty) for every label in `equal`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_matchers: list[str] = Field(min_length=1, description='e.g. alertname="outage"')
    target_matchers: list[str] = Field(min_length=1, description='e.g. role="stage"')
    equal: list[Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]] = Field(
        default_factory=list, description="Labels the source and target must share."
    )

    @model_validator(mode="after")
    def _matchers_parse(self) -> Self:
        for text in (*self.source_matchers, *self.target_matchers):
            Matcher.parse(text)
        return self

    def parsed_sources(self) -> list[Matcher]:
        return [Matcher.parse(text) for text in self.source_matchers]

    def parsed_targets(self) -> list[Matcher]:
        return [Matcher.parse(text) for text in self.target_matchers]


# The shipped SLAs label a facility's outage `role: outage` and its stage alerts `role: stage`
# (sla/defaults.yaml): while the outage fires, the stage alerts it causes are not sent.
# `inhibit_rules: []` in the alerting file turns this off.
DEFAULT_INHIBIT_RULES = (
    InhibitRule(
        source_matchers=['role="outage"'], target_matchers=['role="stage"'], equal=["facility"]
    ),
)


class AlertingConfig(BaseModel):
    """The whole alerting file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_url: str = "http://127.0.0.1:8000"
    route: Route = Field(default_factory=lambda: Route.model_validate({}))
    receivers: list[Receiver] = Field(default_factory=list)
    inhibit_rules: list[InhibitRule] = Field(default_factory=lambda: list(DEFAULT_INHIBIT_RULES))
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)

    @model_validator(mode="after")
    def _receivers_known(self) -> Self:
        names = {r.name for r in self.receivers}
        pending = [self.route]
        while pending:
            route = pending.pop()
            if route.receiver is not None and route.receiver not in names:
                raise ValueError(f"route names unknown receiver {route.receiver!r}")
            pending.extend(route.routes)
        return self

    def receiver(self, name: str) -> Receiver | None:
        return next((r for r in self.receivers if r.name == name), None)


def load_alerting(path: Path | None) -> AlertingConfig:
    """The alerting file, or the defaults (no receivers) when there is none."""
    return AlertingConfig() if path is None else load_yaml_model(path, AlertingConfig)


class SilenceIn(BaseModel):
    """A new silence: alerts matching every matcher are not notified until ends_at."""

    model_config = ConfigDict(extra="forbid")

    matchers: list[Matcher] = Field(min_length=1)
    starts_at: AwareDatetime | None = Field(None, description="Default: now.")
    ends_at: AwareDatetime
    created_by: str = Field(min_length=1)
    comment: str = ""


class AckIn(BaseModel):
    """Acknowledge an alert: who, and optionally who owns it from now on."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1)
    owner: str | None = Field(None, description="Default: the one acknowledging.")
    comment: str = ""


@dataclass(slots=True)
class AlertRecord:
    """One alert as stored (a row of `alerts`)."""

    fingerprint: str
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str]
    state: State
    active_at: datetime
    last_seen_at: datetime
    summary: str
    updated_at: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    value: float | None = None
    threshold: float | None = None
    affected: int | None = None
    amount: float | None = None
    currency: str | None = None
    link: str | None = None
    for_seconds: float = 0.0
    keep_firing_seconds: float = 0.0
    owner: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_comment: str | None = None
    muted: str | None = None  # JSON: silenced_by, inhibited_by (alerts/muting.py)
