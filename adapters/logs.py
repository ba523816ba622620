"""Log lines to log records, by declarative extractors (pure: text in, records out).

Each line is read by the first extractor that matches it: a regular expression with named
groups, a JSON object (fields by dotted path), or key=value pairs. The extracted fields give the
timestamp, the severity, the message and business keys; key_patterns find keys anywhere in the
text. A line that no extractor matches is still a record. Lines that continue the one before
(a Java stack trace) are folded into it. adapters/rules/logs.yaml holds the shipped extractors
(docs/logs.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.records import LogRecord, Scope
from tower.model import IDENTIFIER
from tower.yamlfile import load_yaml_model

__all__ = ["Extractor", "LogRules", "load_log_rules", "parse_lines", "severity_number"]

_IDENTIFIER = re.compile(IDENTIFIER)
_KV = re.compile(r"""(?:^|\s)([\w.@-]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)""")
SEVERITIES = {
    "trace": 1, "finest": 1, "finer": 2, "fine": 5, "debug": 5, "config": 7,
    "info": 9, "information": 9, "notice": 10,
    "warn": 13, "warning": 13,
    "error": 17, "err": 17, "severe": 17,
    "critical": 21, "crit": 21, "fatal": 21, "alert": 22, "emerg": 23, "emergency": 23,
}  # fmt: skip


class Extractor(BaseModel):
    """One way of reading a line."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    format: Literal["regex", "json", "keyvalue"]
    pattern: str | None = None
    min_pairs: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Extractor:
        if self.format == "regex":
            if not self.pattern:
                raise ValueError("a regex extractor needs a pattern")
            _compile(self.pattern)
        return self

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern or "")


class LogRules(BaseModel):
    """adapters/rules/logs.yaml: extractors, fields, keys."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    extractors: list[Extractor] = Field(default_factory=list)
    continuation: str | None = None
    fields: dict[Literal["timestamp", "severity", "message"], list[str]] = Field(
        default_factory=dict, validate_default=True
    )
    keys: dict[str, str] = Field(default_factory=dict)
    key_patterns: list[str] = Field(default_factory=list)
    object_types: dict[str, str] = Field(default_factory=dict)
    default_object_type: str = Field("order", pattern=IDENTIFIER)
    events: Literal["errors", "keyed"] = "errors"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("fields")
    @classmethod
    def _fields_default_to_their_names(
        cls, value: dict[Literal["timestamp", "severity", "message"], list[str]]
    ) -> dict[Literal["timestamp", "severity", "message"], list[str]]:
        # A group named `severity` is the severity unless the file says otherwise, so a
        # one-extractor file needs no `fields` section to mark errors and read times.
        names: tuple[Literal["timestamp", "severity", "message"], ...] = (
            "timestamp",
            "severity",
            "message",
        )
        return {name: value.get(name, [name]) for name in names}

    @field_validator("continuation")
    @classmethod
    def _continuation_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            _compile(value)
        return value

    @field_validator("keys", "object_types")
    @classmethod
    def _namespaces(cls, value: dict[str, str]) -> dict[str, str]:
        for namespace in value.values():
            if not _IDENTIFIER.match(namespace):
                raise ValueError(f"{namespace!r} is not a key namespace ({IDENTIFIER})")
        return value

    @field_validator("key_patterns")
    @classmethod
    def _groups_are_namespaces(cls, value: list[str]) -> list[str]:
        for pattern in value:
            compiled = _compile(pattern)
            if not compiled.groupindex:
                raise ValueError(f"key pattern {pattern!r} has no named group")
            for group in compiled.groupindex:
                if not _IDENTIFIER.match(group):
                    raise ValueError(f"group {group!r} is not a key namespace ({IDENTIFIER})")
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def compiled_keys(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.key_patterns]

    @cached_property
    def compiled_continuation(self) -> re.Pattern[str] | None:
        return re.compile(self.continuation) if self.continuation else None


def load_log_rules(path: Path | None = None) -> LogRules:
    """The rules in `path`, or the shipped ones; a bad file raises ConfigFileError."""
    if path is None:
        with resources.as_file(resources.files("adapters").joinpath("rules/logs.yaml")) as p:
            return load_yaml_model(p, LogRules)
    return load_yaml_model(path, LogRules)


def parse_lines(text: str, *, rules: LogRules, source: str) -> list[LogRecord]:
    """Every record of a block of log text, continuation lines folded into their record."""
    records: list[LogRecord] = []
    pending: list[str] = []
    continuation = rules.compiled_continuation
    for line in text.splitlines():
        if not line.strip():
            continue
        if pending and continuation is not None and continuation.match(line):
            pending.append(line)
            continue
        if pending:
            records.append(read_record(pending, rules=rules, source=source))
        pending = [line]
    if pending:
        records.append(read_record(pending, rules=rules, source=source))
    return records


def read_record(lines: list[str], *, rules: LogRules, source: str) -> LogRecord:
    """One record from its first line and its continuation lines."""
    first = lines[0].strip()
    body = "\n".join([first, *lines[1:]])
    fields: dict[str, Any] = {}
    matched: str | None = None
    for extractor in rules.extractors:
        found = _extract(extractor, first)
        if found is not None:
            fields, matched = found, extractor.name
            break
    keys: dict[str, str] = {}
    for field, namespace in rules.keys.items():
        value = _lookup(fields, field)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            keys.setdefault(namespace, str(value))
    for pattern in rules.compiled_keys:
        for match in pattern.finditer(body):
            for namespace, value in match.groupdict().items():
                if value:
                    keys.setdefault(namespace, value)
    severity_text = _text(_pick(fields, rules.fields.get("severity", [])))
    timestamp = _pick(fields, rules.fields.get("timestamp", []))
    attributes = {k: v for k, v in fields.items() if v is not None}
    return LogRecord(
        time_ns=parse_time(timestamp, zone=rules.zone),
        observed_ns=None,
        severity_number=severity_number(severity_text),
        severity_text=severity_text,
        body=body,
        attributes=attributes,
        scope=Scope(),
        source=source,
        keys=keys,
        extractor=matched,
    )


def severity_number(text: str | None) -> int:
    """The OTLP severity number of a level word (ERROR -> 17); 0 when unknown."""
    if not text:
        return 0
    return SEVERITIES.get(text.strip().lower(), 0)


def parse_time(value: Any, *, zone: ZoneInfo) -> int | None:
    """Unix nanoseconds of an ISO 8601 text or a Unix number (s, ms, us or ns); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
        for scale in (1e9, 1e6, 1e3, 1.0):  # guess the unit from the magnitude
            if abs(number) * scale < 1e19 and abs(number) * scale > 1e17:
                return int(number * scale)
        return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return int(parsed.timestamp()) * 10**9 + parsed.microsecond * 1000


# -- extraction ----------------------------------------------------------------------------------


def _extract(extractor: Extractor, line: str) -> dict[str, Any] | None:
    if extractor.format == "regex":
        match = extractor.regex.search(line)
        return None if match is None else {k: v for k, v in match.groupdict().items() if v}
    if extractor.format == "json":
        if not line.startswith("{"):
            return None
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict) else None
    pairs = {key: _unquote(value) for key, value in _KV.findall(line)}
    return pairs if len(pairs) >= extractor.min_pairs else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace('\\"', '"') if value[0] == '"' else inner
    return value


def _lookup(fields: dict[str, Any], path: str) -> Any:
    """A field by name, else by dotted path into nested objects."""
    if path in fields:
        return fields[path]
    node: Any = fields
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _pick(fields: dict[str, Any], names: list[str]) -> Any:
    for name in names:
        value = _lookup(fields, name)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {pattern!r}") from exc
