"""Spans and log records to canonical events, by declarative attribute rules (pure).

A record that carries a business key (an order number, a shipment id) becomes an event, so it
joins that object's journey. The rules say which attributes are keys, which give the type, the
source and the system; adapters/rules/otlp.yaml holds the shipped defaults (docs/opentelemetry.md).
Events are built unvalidated (Event.model_construct): the collector validates them like any
posted event and records the refused ones, with the reason, in the rejects.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from adapters.records import LogRecord, Span
from tower.model import IDENTIFIER, SYSTEMS, Event, System
from tower.yamlfile import load_yaml_model

__all__ = ["KeyRule", "OtlpRules", "event_dicts", "load_otlp_rules", "log_event", "span_event"]

MAX_ERROR = 8192


class KeyRule(BaseModel):
    """An attribute that holds a business identifier, and the key namespace it belongs to."""

    model_config = ConfigDict(extra="forbid")

    attribute: str = Field(min_length=1)
    namespace: str = Field(pattern=IDENTIFIER)
    object_type: str | None = Field(None, pattern=IDENTIFIER)


class OtlpRules(BaseModel):
    """adapters/rules/otlp.yaml: how telemetry attributes become events."""

    model_config = ConfigDict(extra="forbid")

    keys: list[KeyRule] = Field(default_factory=list)
    default_object_type: str = Field("order", pattern=IDENTIFIER)
    type_attributes: list[str] = Field(default_factory=list)
    source_attributes: list[str] = Field(default_factory=lambda: ["service.name"])
    system_attributes: list[str] = Field(default_factory=list)
    facility_attributes: list[str] = Field(default_factory=list)
    default_system: System = "other"
    log_events: Literal["errors", "keyed"] = "errors"


def load_otlp_rules(path: Path | None = None) -> OtlpRules:
    """The rules in `path`, or the shipped ones; a bad file raises ConfigFileError."""
    if path is None:
        with resources.as_file(resources.files("adapters").joinpath("rules/otlp.yaml")) as p:
            return load_yaml_model(p, OtlpRules)
    return load_yaml_model(path, OtlpRules)


def span_event(span: Span, rules: OtlpRules) -> Event | None:
    """The event a span yields, or None when it carries no key."""
    attrs = span.attributes
    found = _keys(attrs, rules)
    if found is None:
        return None
    object_type, keys, related = found
    error = span.status_code == "ERROR"
    when = span.end_ns or span.start_ns
    extra = {k: v for k, v in attrs.items() if k not in _key_attributes(rules)}
    extra.update(
        {
            "span.name": span.name,
            "span.kind": span.kind,
            "span.id": span.span_id,
            "duration_ms": round((span.end_ns - span.start_ns) / 1e6, 3)
            if span.end_ns and span.start_ns
            else None,
        }
    )
    return _event(
        event_id=f"span:{span.trace_id}:{span.span_id}",
        occurred_ns=when,
        type=_first(attrs, rules.type_attributes) or _type_of_name(span.name),
        object_type=object_type,
        keys=keys,
        related=related,
        attrs=attrs,
        resource=span.scope.resource,
        rules=rules,
        given_source=None,
        correlation_id=span.trace_id,
        error=(span.status_message or "span status ERROR") if error else None,
        attributes=extra,
    )


def log_event(
    record: LogRecord,
    rules: OtlpRules,
    *,
    received_ns: int,
    object_types: dict[str, str] | None = None,
    events: Literal["errors", "keyed"] | None = None,
) -> Event | None:
    """The event a log record yields, or None (no key, or not an error when errors only).

    Keys come from the attribute rules (OTLP records) and from the record's extracted keys
    (log lines); `object_types` names the object type of an extracted key's namespace;
    `events` overrides the rules' log_events.
    """
    found = _keys(record.attributes, rules, extracted=record.keys, object_types=object_types)
    if found is None:
        return None
    if (events or rules.log_events) == "errors" and not (record.is_error or record.event_name):
        return None
    object_type, keys, related = found
    when = record.time_ns or record.observed_ns or received_ns
    body = record.body if isinstance(record.body, str) else orjson.dumps(record.body).decode()
    severity = (record.severity_text or _severity_word(record.severity_number)).lower()
    type_ = (
        _first(record.attributes, rules.type_attributes)
        or record.event_name
        or f"log.{_type_of_name(severity) or 'unknown'}"
    )
    extra = {k: v for k, v in record.attributes.items() if k not in _key_attributes(rules)}
    extra.update({"log.severity": severity, "log.message": body[:MAX_ERROR]})
    digest = hashlib.sha1(
        orjson.dumps([record.source, when, body, record.trace_id, record.span_id])
    ).hexdigest()
    return _event(
        event_id=f"log:{digest}",
        occurred_ns=when,
        type=_type_of_name(type_),
        object_type=object_type,
        keys=keys,
        related=related,
        attrs=record.attributes,
        resource=record.scope.resource,
        rules=rules,
        given_source=record.source,
        correlation_id=record.trace_id,
        error=body[:MAX_ERROR] if record.is_error else None,
        attributes=extra,
    )


def event_dicts(events: list[Event]) -> list[bytes]:
    """Events as NDJSON lines, the form the collector validates."""
    return [orjson.dumps(e.model_dump(mode="json", exclude_none=True)) for e in events]


# -- helpers -------------------------------------------------------------------------------------


def _event(
    *,
    event_id: str,
    occurred_ns: int,
    type: str,
    object_type: str,
    keys: dict[str, str],
    related: list[dict[str, Any]],
    attrs: dict[str, Any],
    resource: dict[str, Any],
    rules: OtlpRules,
    given_source: str | None,
    correlation_id: str | None,
    error: str | None,
    attributes: dict[str, Any],
) -> Event:
    source = (
        given_source
        or _first(attrs, rules.source_attributes)
        or _first(resource, rules.source_attributes)
        or "otlp"
    )
    system = _first(attrs, rules.system_attributes) or _first(resource, rules.system_attributes)
    if system not in SYSTEMS:
        word = re.split(r"[^a-z]", source.lower(), maxsplit=1)[0]
        system = word if word in SYSTEMS else rules.default_system
    facility = _first(attrs, rules.facility_attributes) or _first(
        resource, rules.facility_attributes
    )
    occurred = datetime.fromtimestamp(occurred_ns // 10**9, tz=UTC).replace(
        microsecond=occurred_ns % 10**9 // 1000
    )
    fields: dict[str, Any] = {
        "event_id": event_id,
        "occurred_at": occurred,
        "source": source[:128],
        "system": system,
        "facility": facility,
        "type": type or "span",
        "object_type": object_type,
        "keys": keys,
        "correlation_id": correlation_id,
        "status": "error" if error is not None else "ok",
        "error": error,
        "attributes": {k: v for k, v in attributes.items() if v is not None},
        "related": related,
    }
    return Event.model_construct(**fields)


def _keys(
    attrs: dict[str, Any],
    rules: OtlpRules,
    *,
    extracted: dict[str, str] | None = None,
    object_types: dict[str, str] | None = None,
) -> tuple[str, dict[str, str], list[dict[str, Any]]] | None:
    """(object_type, own keys, related) from the attributes, or None when there is no key."""
    hits: list[tuple[str, str | None, str]] = []  # namespace, object_type, value
    for rule in rules.keys:
        value = attrs.get(rule.attribute)
        if value is not None and value != "" and not isinstance(value, dict | list):
            hits.append((rule.namespace, rule.object_type, str(value)[:256]))
    for namespace, value in (extracted or {}).items():
        hits.append((namespace, (object_types or {}).get(namespace), value[:256]))
    if not hits:
        return None
    typed = [kind for _, kind, _ in hits if kind is not None]
    object_type = typed[0] if typed else rules.default_object_type
    keys: dict[str, str] = {}
    others: dict[str, dict[str, str]] = {}
    for namespace, kind, value in hits:
        if kind is None or kind == object_type:
            keys.setdefault(namespace, value)
        else:
            others.setdefault(kind, {}).setdefault(namespace, value)
    related = [{"object_type": kind, "keys": k} for kind, k in others.items()]
    return object_type, keys, related


def _key_attributes(rules: OtlpRules) -> set[str]:
    return {rule.attribute for rule in rules.keys}


def _first(attrs: dict[str, Any], names: list[str]) -> str | None:
    for name in names:
        value = attrs.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _type_of_name(name: str) -> str:
    """A span name or attribute as an event type: lower case, other characters as dots."""
    return re.sub(r"[^a-z0-9_-]+", ".", name.lower()).strip(".-_")[:128].strip(".")


def _severity_word(number: int) -> str:
    for floor, word in ((21, "fatal"), (17, "error"), (13, "warn"), (9, "info"), (5, "debug")):
        if number >= floor:
            return word
    return "trace" if number > 0 else "unknown"
