"""Routing rules: who owns a failure, and how it is classified; and the cause it groups under.

Pure: a failure's facts in, a route out. exceptions/routing.yaml holds the shipped rules
(docs/exceptions.md); the first rule whose every condition matches wins, else the default.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tower.yamlfile import load_yaml_model

__all__ = [
    "Category",
    "Origin",
    "ReplayAction",
    "Domain",
    "Failure",
    "Route",
    "RoutingRules",
    "Severity",
    "group_key",
    "load_routing",
    "normalise_error",
]

Category = Literal["technical", "business"]
Domain = Literal["order", "inventory", "shipment", "finance", "partner"]
Severity = Literal["critical", "high", "medium", "low"]
Origin = Literal["dead_letter", "error_event", "reject", "alert"]

# Digits, hex runs and UUIDs vary between failures of one cause: an order number in the text
# must not split "order W-1001 not found" from "order W-1002 not found".
_VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{16,}\b|\d+",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Failure:
    """The facts routing and grouping look at, whatever the failure's origin."""

    origin: Origin
    source: str  # the event's source, rabbitmq:<queue that dead-lettered it>, sla:<alert>
    error: str
    place: str | None = None  # the dead-letter queue, the event type, the alert name
    facility: str | None = None
    partner: str | None = None
    object_type: str | None = None


class Match(BaseModel):
    """Conditions of a rule, all of which must hold. Globs (* ?) except `error`, a regex."""

    model_config = ConfigDict(extra="forbid")

    origin: Origin | None = None
    source: str | None = None
    place: str | None = None
    facility: str | None = None
    partner: str | None = None
    object_type: str | None = None
    error: str | None = Field(None, description="Regular expression searched, any case.")

    @field_validator("error")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc}): {value!r}") from exc
        return value

    @cached_property
    def error_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.error, re.IGNORECASE) if self.error else None

    def matches(self, failure: Failure) -> bool:
        globs = {
            "source": failure.source,
            "place": failure.place,
            "facility": failure.facility,
            "partner": failure.partner,
            "object_type": failure.object_type,
        }
        for name, actual in globs.items():
            pattern = getattr(self, name)
            if pattern is not None and (
                actual is None or not fnmatch.fnmatchcase(actual.lower(), pattern.lower())
            ):
                return False
        if self.origin is not None and self.origin != failure.origin:
            return False
        regex = self.error_regex
        return regex is None or regex.search(failure.error) is not None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    match: Match
    owner: str = Field(min_length=1)
    category: Category | None = None
    domain: Domain | None = None
    severity: Severity | None = None


class Default(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str = Field(min_length=1)
    category: Category = "technical"
    domain: Domain = "order"
    severity: Severity = "medium"


class ReplayAction(BaseModel):
    """One middleware's replay endpoint and the exceptions it replays."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    match: Match
    url: str = Field(pattern=r"^https?://", description="Receives one POST per failure.")
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)


class Route(BaseModel):
    """What routing decided for one failure."""

    owner: str
    category: Category
    domain: Domain
    severity: Severity
    rule: str | None  # None: the default


class RoutingRules(BaseModel):
    """exceptions/routing.yaml."""

    model_config = ConfigDict(extra="forbid")

    default: Default
    # the domain of a failure no rule gives one, by the object type it concerns
    domains: dict[str, Domain] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    # how exceptions without dead letters are replayed through other middleware (actions.py)
    replay_actions: list[ReplayAction] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
        return rules

    def route(self, failure: Failure) -> Route:
        """The first matching rule's route, its gaps filled from the default."""
        fallback_domain = self.domains.get(failure.object_type or "", self.default.domain)
        for rule in self.rules:
            if rule.match.matches(failure):
                return Route(
                    owner=rule.owner,
                    category=rule.category or self.default.category,
                    domain=rule.domain or fallback_domain,
                    severity=rule.severity or self.default.severity,
                    rule=rule.name,
                )
        return Route(
            owner=self.default.owner,
            category=self.default.category,
            domain=fallback_domain,
            severity=self.default.severity,
            rule=None,
        )


def load_routing(path: Path | None = None) -> RoutingRules:
    """The rules in `path`, or the shipped ones; a bad file raises ConfigFileError (file:line)."""
    if path is None:
        with resources.as_file(resources.files("exceptions").joinpath("routing.yaml")) as p:
            return load_yaml_model(p, RoutingRules)
    return load_yaml_model(path, RoutingRules)


def normalise_error(error: str) -> str:
    """The error text with what varies between failures of one cause (numbers, ids) masked."""
    return " ".join(_VARYING.sub("#", error.strip().lower()).split())[:500]


def group_key(failure: Failure) -> str:
    """Failures of one cause share this: origin, source, place and the normalised error."""
    parts = [failure.origin, failure.source, failure.place or "", normalise_error(failure.error)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
