"""Declarative webhook mappings: any JSON payload to canonical events, by YAML (pure).

A mapping names, per event it yields, where each field of the canonical event comes from:
JMESPath expressions (the `jmespath` package) or JSONPath ones (`python-jsonpath`, written with
a leading `$`). Expressions see one document: `payload` (the whole body), `item` (the current
element of `for_each`, else the payload), `each` (the current element of a related entry's
`for_each`) and `headers` (request headers, lower-case names). One entry with `for_each` yields
one event per element, so a payload becomes several events (one per line or fulfillment).

A mapping file that is wrong fails at load with the file, the field and the expression. A
payload that a mapping cannot turn into an event refuses that event with the same precision;
the other events of the payload are kept. adapters/mapping_files.py reads and compiles mapping
files; docs/adapters.md describes the format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

import jmespath.exceptions

from adapters.records import Rejected

__all__ = ["EventSpec", "Expression", "MappingResult", "RelatedSpec", "WebhookMapping"]

Language = Literal["jmespath", "jsonpath", "literal"]


class _NoValue(Exception):
    """An expression failed on this payload; the message says why."""


@dataclass(frozen=True, slots=True)
class Expression:
    """One value of a mapping: a JMESPath or JSONPath expression, or a literal."""

    text: str
    language: Language
    compiled: Any = None
    lookup: Mapping[str, Any] | None = None  # value -> replacement (e.g. status -> event type)
    default: Any = None

    def evaluate(self, document: Mapping[str, Any]) -> Any:
        """The value on `document`; None when the payload has none."""
        if self.language == "literal":
            value: Any = self.compiled
        elif self.language == "jmespath":
            try:
                value = self.compiled.search(document)
            except jmespath.exceptions.JMESPathError as exc:
                raise _NoValue(str(exc).splitlines()[0]) from exc
        else:
            found = self.compiled.findall(document)
            value = found[0] if len(found) == 1 and self._singular else (found or None)
        if self.lookup is not None:
            key = value if isinstance(value, str) else _text(value)
            value = self.lookup.get(key, self.default) if key is not None else self.default
        elif value is None:
            value = self.default
        return value

    @property
    def _singular(self) -> bool:
        return bool(self.compiled.singular_query())

    def describe(self) -> str:
        return f"{self.language} {self.text!r}" if self.language != "literal" else "a literal"


@dataclass(frozen=True, slots=True)
class RelatedSpec:
    object_type: Expression
    keys: dict[str, Expression]
    for_each: Expression | None = None


@dataclass(frozen=True, slots=True)
class EventSpec:
    """How one entry of `events:` builds events; `where` names it in errors."""

    where: str
    fields: dict[str, Expression]  # the scalar fields of the event, by name
    keys: dict[str, Expression]
    attributes: dict[str, Expression] = field(default_factory=dict)
    related: list[RelatedSpec] = field(default_factory=list)
    for_each: Expression | None = None
    when: Expression | None = None


@dataclass(slots=True)
class MappingResult:
    """Event dicts for the collector to validate, and the events the mapping refused."""

    events: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # each event's position among candidates
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WebhookMapping:
    """A named mapping from one kind of JSON payload to canonical events."""

    name: str
    description: str
    events: list[EventSpec]
    timezone: tzinfo | None = None  # for naive timestamps; None: they are refused
    origin: str = ""

    def apply(self, payload: Any, *, headers: Mapping[str, str] | None = None) -> MappingResult:
        """The events `payload` yields; each refused one with its field, expression and reason."""
        result = MappingResult()
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        for spec in self.events:
            for document in _items(self.name, spec, payload, lowered, result):
                index = len(result.indexes) + len(result.rejected)
                try:
                    event = _build(spec, document, self.timezone)
                except _NoValue as exc:
                    where = f"event {index} ({self.name} {spec.where})"
                    result.rejected.append(Rejected(index, f"{where}: {exc}"))
                    continue
                if event is not None:
                    result.events.append(event)
                    result.indexes.append(index)
        return result


def _items(
    name: str, spec: EventSpec, payload: Any, headers: dict[str, str], result: MappingResult
) -> Iterator[dict[str, Any]]:
    base = {"payload": payload, "item": payload, "headers": headers}
    if spec.for_each is None:
        yield base
        return
    try:
        elements = spec.for_each.evaluate(base)
    except _NoValue as exc:
        index = len(result.indexes) + len(result.rejected)
        where = f"event {index} ({name} {spec.where})"
        reason = f"{where}: for_each: {spec.for_each.describe()} failed: {exc}"
        result.rejected.append(Rejected(index, reason))
        return
    if elements is None:
        return
    for element in elements if isinstance(elements, list) else [elements]:
        yield base | {"item": element}


def _build(spec: EventSpec, document: dict[str, Any], zone: tzinfo | None) -> dict[str, Any] | None:
    if spec.when is not None and not _truthy(_value("when", spec.when, document)):
        return None
    event: dict[str, Any] = {}
    for name in ("event_id", "occurred_at", "source", "system", "facility", "type",
                 "object_type", "correlation_id", "status", "error"):  # fmt: skip
        expression = spec.fields.get(name)
        if expression is None:
            continue
        value = _value(name, expression, document)
        if value is None:
            if name in ("occurred_at", "type", "object_type", "source", "system"):
                unlisted = " or a value its map: does not list" if expression.lookup else ""
                raise _NoValue(f"{name}: {expression.describe()} gave nothing{unlisted}")
            continue
        if name == "occurred_at":
            value = _timestamp(value, expression, zone)
        elif name in ("event_id", "correlation_id", "error") and not isinstance(value, str):
            value = _text(value) or str(value)  # ids may be numbers in a payload
        event[name] = value
    event["keys"] = _keys("keys", spec.keys, document)
    attributes = {}
    for name, expression in spec.attributes.items():
        value = _value(f"attributes.{name}", expression, document)
        if value is not None:
            attributes[name] = value
    if attributes:
        event["attributes"] = attributes
    related: list[dict[str, Any]] = []
    for number, link in enumerate(spec.related):
        for link_event in _related(f"related[{number}]", link, document):
            if link_event not in related:  # one link once, however often the payload repeats it
                related.append(link_event)
    if related:
        event["related"] = related
    return event


def _related(where: str, link: RelatedSpec, document: dict[str, Any]) -> list[dict[str, Any]]:
    elements: list[Any] = [None]
    if link.for_each is not None:
        found = _value(f"{where}.for_each", link.for_each, document)
        elements = [] if found is None else found if isinstance(found, list) else [found]
    out = []
    for element in elements:
        scope = document if link.for_each is None else document | {"each": element}
        keys = _keys(f"{where}.keys", link.keys, scope, required=False)
        if keys:
            out.append({"object_type": _value(f"{where}.object_type", link.object_type, scope),
                        "keys": keys})  # fmt: skip
    return out


def _keys(
    where: str, specs: dict[str, Expression], document: dict[str, Any], *, required: bool = True
) -> dict[str, str]:
    keys = {}
    for name, expression in specs.items():
        value = _value(f"{where}.{name}", expression, document)
        text = _text(value)
        if value is not None and text is None:
            kind = type(value).__name__
            raise _NoValue(f"{where}.{name}: {expression.describe()} gave a {kind}, not one value")
        if text:
            keys[name] = text
    if required and not keys:
        tried = ", ".join(f"{n}: {e.describe()}" for n, e in specs.items())
        raise _NoValue(f"{where}: every key expression gave nothing ({tried})")
    return keys


def _value(name: str, expression: Expression, document: Mapping[str, Any]) -> Any:
    try:
        return expression.evaluate(document)
    except _NoValue as exc:
        raise _NoValue(f"{name}: {expression.describe()} failed: {exc}") from exc


def _text(value: Any) -> str | None:
    """A key as text: strings as they are, numbers without a spurious '.0'; None otherwise."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return None


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", [], {})


def _timestamp(value: Any, expression: Expression, zone: tzinfo | None) -> str:
    """RFC 3339 text; epoch seconds (or milliseconds) as numbers; naive text in `zone`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 100_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError) as exc:
            reason = f"gave {value!r}, not a time in range"
            raise _NoValue(f"occurred_at: {expression.describe()} {reason}") from exc
    if not isinstance(value, str):
        kind = type(value).__name__
        raise _NoValue(f"occurred_at: {expression.describe()} gave a {kind}, not a time")
    if zone is not None:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value  # the collector says what is wrong with it
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=zone).isoformat()
    return value
