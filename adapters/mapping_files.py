"""Webhook mapping files: YAML read, checked and compiled into WebhookMapping objects.

Every expression is compiled here, once, at start (`tower serve` loads the shipped folder
adapters/webhooks and TOWER_WEBHOOK_MAPPINGS_DIR), so a wrong file stops the start naming the
file, the field and the expression instead of failing on the first payload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
import jmespath.exceptions
import jsonpath
import yaml

from adapters.mapping import EventSpec, Expression, RelatedSpec, WebhookMapping

__all__ = ["MappingError", "load_mapping", "load_mappings", "parse_mapping"]

SHIPPED = Path(__file__).with_name("webhooks")
# Fields that usually name a constant (a plain string is a literal); every other field usually
# reads the payload (a plain string is an expression). The {jmespath:}/{jsonpath:}/{value:}
# forms override either default.
LITERAL_FIELDS = ("type", "object_type", "system", "source", "facility", "status")
EXPRESSION_FIELDS = ("event_id", "occurred_at", "correlation_id", "error")
EVENT_FIELDS = {*LITERAL_FIELDS, *EXPRESSION_FIELDS, "for_each", "when", "keys", "attributes",
                "related", "name"}  # fmt: skip
DEFAULT_FIELDS = ("source", "system", "facility")
REQUIRED = ("type", "object_type", "keys", "occurred_at", "source", "system")


class MappingError(ValueError):
    """A mapping file is wrong; the message names the file, the field and the expression."""


def parse_mapping(document: Any, *, name: str, origin: str = "<mapping>") -> WebhookMapping:
    """A mapping from its parsed YAML; MappingError names the file, field and expression."""
    if not isinstance(document, dict):
        raise MappingError(f"{origin}: a mapping is a YAML object with an `events:` list")
    unknown = set(document) - {"name", "description", "timezone", "events", *DEFAULT_FIELDS}
    if unknown:
        raise MappingError(f"{origin}: unknown top-level field(s) {sorted(unknown)}")
    entries = document.get("events")
    if not isinstance(entries, list) or not entries:
        raise MappingError(f"{origin}: `events:` must be a non-empty list")
    zone = None
    if document.get("timezone") is not None:
        try:
            zone = ZoneInfo(str(document["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MappingError(
                f"{origin}: timezone: unknown zone {document['timezone']!r}"
            ) from exc
    defaults = {k: document[k] for k in DEFAULT_FIELDS if document.get(k) is not None}
    specs = [
        _event_spec({**defaults, **entry} if isinstance(entry, dict) else entry, number, origin)
        for number, entry in enumerate(entries)
    ]
    return WebhookMapping(
        name=str(document.get("name") or name),
        description=str(document.get("description") or ""),
        events=specs,
        timezone=zone,
        origin=origin,
    )


def _event_spec(entry: Any, number: int, origin: str) -> EventSpec:
    where = f"events[{number}]"
    if not isinstance(entry, dict):
        raise MappingError(f"{origin}: {where}: each event is a YAML object")
    if isinstance(entry.get("name"), str):
        where = f"events[{number}] ({entry['name']})"
    unknown = set(entry) - EVENT_FIELDS
    if unknown:
        raise MappingError(f"{origin}: {where}: unknown field(s) {sorted(unknown)}")
    missing = [f for f in REQUIRED if entry.get(f) in (None, "", {})]
    if missing:
        raise MappingError(f"{origin}: {where}: missing {', '.join(missing)}")

    def compile_(name: str, value: Any, *, literal: bool) -> Expression:
        return _expression(value, literal=literal, where=f"{origin}: {where}: {name}")

    fields = {
        name: compile_(name, entry[name], literal=name in LITERAL_FIELDS)
        for name in (*LITERAL_FIELDS, *EXPRESSION_FIELDS)
        if entry.get(name) is not None
    }
    keys = _expressions(entry["keys"], f"{origin}: {where}: keys")
    attributes = _expressions(entry.get("attributes") or {}, f"{origin}: {where}: attributes")
    related = []
    for index, link in enumerate(entry.get("related") or []):
        at = f"{origin}: {where}: related[{index}]"
        if not isinstance(link, dict) or not link.get("object_type") or not link.get("keys"):
            raise MappingError(f"{at}: needs object_type and keys")
        for_each = link.get("for_each")
        related.append(
            RelatedSpec(
                object_type=_expression(
                    link["object_type"], literal=True, where=f"{at}.object_type"
                ),
                keys=_expressions(link["keys"], f"{at}.keys"),
                for_each=None
                if for_each is None
                else _expression(for_each, where=f"{at}.for_each"),
            )
        )
    return EventSpec(
        where=where,
        fields=fields,
        keys=keys,
        attributes=attributes,
        related=related,
        for_each=None if entry.get("for_each") is None else compile_("for_each", entry["for_each"],
                                                                      literal=False),
        when=None if entry.get("when") is None else compile_("when", entry["when"], literal=False),
    )  # fmt: skip


def _expressions(specs: Any, where: str) -> dict[str, Expression]:
    if not isinstance(specs, dict):
        raise MappingError(f"{where}: must be an object of name: expression")
    return {str(name): _expression(value, where=f"{where}.{name}") for name, value in specs.items()}


def _expression(value: Any, *, where: str, literal: bool = False) -> Expression:
    """Compile one value: a string (literal or expression by the field's default) or a dict."""
    lookup, default = None, None
    if isinstance(value, dict):
        forms = [k for k in ("jmespath", "jsonpath", "value") if k in value]
        extra = set(value) - {"jmespath", "jsonpath", "value", "map", "default"}
        if len(forms) != 1 or extra:
            raise MappingError(
                f"{where}: give exactly one of jmespath:, jsonpath: or value: (and optionally "
                f"map: and default:), not {sorted(value)}"
            )
        lookup, default = value.get("map"), value.get("default")
        if lookup is not None and not isinstance(lookup, dict):
            raise MappingError(f"{where}: map: must be an object of value: replacement")
        form = forms[0]
        if form == "value":
            return Expression(repr(value["value"]), "literal", value["value"], lookup, default)
        text, language = value[form], form
    elif isinstance(value, str) and not literal:
        text, language = value, ("jsonpath" if value.startswith("$") else "jmespath")
    elif isinstance(value, str | int | float | bool):
        return Expression(repr(value), "literal", value)
    else:
        raise MappingError(f"{where}: expected a string or an expression, not {value!r}")
    if not isinstance(text, str) or not text.strip():
        raise MappingError(f"{where}: the {language} expression is empty")
    try:
        compiled = jmespath.compile(text) if language == "jmespath" else jsonpath.compile(text)
    except (jmespath.exceptions.JMESPathError, jsonpath.JSONPathError) as exc:
        reason = str(exc).splitlines()[0]
        raise MappingError(f"{where}: {language} {text!r} does not compile: {reason}") from exc
    return Expression(text, language, compiled, lookup, default)  # type: ignore[arg-type]


def load_mapping(path: Path) -> WebhookMapping:
    """One mapping file; its name is the file's stem unless the file says otherwise."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from exc
    return parse_mapping(document, name=path.stem, origin=str(path))


def load_mappings(folder: Path | None = None) -> dict[str, WebhookMapping]:
    """The shipped mappings (adapters/webhooks) and a user folder's, which win on a name."""
    found: dict[str, WebhookMapping] = {}
    folders = [SHIPPED] + ([folder] if folder is not None else [])
    for directory in folders:
        if not directory.is_dir():
            raise MappingError(f"{directory}: webhook mapping folder not found")
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            mapping = load_mapping(path)
            found[mapping.name] = mapping
    return found
