"""PII redaction at ingest: rules in YAML, applied to events before anything is stored.

Three kinds of rule (collector/redaction.yaml ships the defaults, docs/security.md explains):

- `fields`: attribute members with these names, at any depth, are hashed, masked or dropped;
- `keys`: values of these key namespaces are hashed, so a journey still links and a search for
  the clear value still finds it (the search hashes the query the same way);
- `pattern`: text matching a regular expression, in any attribute string, key value, `error`
  or rejected item, is replaced by its hash or a mask.

A hash is `pii:` and 24 hex digits of HMAC-SHA256 under the installation's salt: the same value
always gives the same hash (it can be searched and joined), and without the salt it cannot be
looked up in a table of known e-mail addresses.

Rows are selected for the Python pass by vectorised regular expressions over the batch's text
columns, so a batch without personal data costs a scan, not a parse per event.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tower.yamlfile import load_yaml_model

__all__ = ["RedactionRule", "RedactionRules", "Redactor", "load_redaction"]

MASK = "[redacted]"
HASH_PREFIX = "pii:"


class RedactionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    fields: list[str] = Field(default_factory=list, description="attribute names, any depth")
    keys: list[str] = Field(default_factory=list, description="key namespaces to hash")
    pattern: str | None = Field(None, description="a regular expression for free text")
    action: Literal["hash", "mask", "drop"] = "hash"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is None:
            return None
        try:
            re.compile(pattern)
            pc.match_substring_regex(pa.array([""]), pattern)  # RE2 selects the rows
        except (re.error, pa.ArrowInvalid) as exc:
            problem = f"pattern {pattern!r} is not a usable regular expression: {exc}"
            raise ValueError(problem) from exc
        return pattern

    @model_validator(mode="after")
    def _one_target(self) -> RedactionRule:
        if not (self.fields or self.keys or self.pattern):
            raise ValueError(f"rule {self.name!r} needs fields, keys or a pattern")
        if self.keys and self.action != "hash":
            raise ValueError(
                f"rule {self.name!r}: key values can only be hashed (a masked or dropped key "
                "would no longer link its journey)"
            )
        if self.pattern and self.action == "drop":
            raise ValueError(f"rule {self.name!r}: a pattern can be hashed or masked, not dropped")
        return self


class RedactionRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RedactionRule] = Field(default_factory=list)


def load_redaction(path: Path | None) -> RedactionRules:
    """The rules of `path`, or the shipped defaults; a bad file raises ConfigFileError."""
    if path is None:
        with resources.as_file(resources.files("collector").joinpath("redaction.yaml")) as shipped:
            return load_yaml_model(shipped, RedactionRules)
    return load_yaml_model(path, RedactionRules)


class Redactor:
    """Applies one rule set. Pure apart from the salt it is given."""

    def __init__(self, rules: RedactionRules, *, salt: bytes) -> None:
        self.rules = rules.rules
        self._salt = salt
        self._fields = {f.lower(): r for r in self.rules for f in r.fields}
        self._keys = {k for r in self.rules for k in r.keys}
        self._patterns = [(re.compile(r.pattern), r) for r in self.rules if r.pattern]
        names = [re.escape(n) for n in [*self._fields, *self._keys]]
        selectors = [f'"(?i:{"|".join(names)})":'] if names else []
        selectors += [r.pattern for r in self.rules if r.pattern]
        self._selector = "|".join(f"(?:{s})" for s in selectors) if selectors else None

    @property
    def active(self) -> bool:
        return self._selector is not None

    def hash(self, value: str) -> str:
        digest = hmac.new(self._salt, value.encode(), hashlib.sha256).hexdigest()
        return HASH_PREFIX + digest[:24]

    # -- events ----------------------------------------------------------------------------

    def redact_events(self, events: pa.Table) -> pa.Table:
        """Validated events (validate's columns) with personal data replaced."""
        if self._selector is None or events.num_rows == 0:
            return events
        hit = pc.fill_null(
            pc.or_(
                pc.or_(
                    pc.match_substring_regex(events["attributes"], self._selector),
                    pc.match_substring_regex(events["keys"], self._selector),
                ),
                pc.or_(
                    pc.match_substring_regex(events["related"], self._selector),
                    pc.match_substring_regex(pc.fill_null(events["error"], ""), self._selector),
                ),
            ),
            False,
        )
        rows = [i for i, flagged in enumerate(hit.to_pylist()) if flagged]
        if not rows:
            return events
        changes: dict[str, Callable[[Any], Any]] = {
            "attributes": lambda text: _dumps(self._attributes(orjson.loads(text))),
            "keys": lambda text: _dumps(self._key_map(orjson.loads(text))),
            "related": lambda text: _dumps(
                [{**r, "keys": self._key_map(r["keys"])} for r in orjson.loads(text)]
            ),
            "error": lambda text: None if text is None else self.redact_text(text),
        }
        for column, change in changes.items():
            values = events[column].to_pylist()
            for i in rows:
                values[i] = change(values[i])
            position = events.schema.get_field_index(column)
            events = events.set_column(
                position, events.schema.field(position), pa.array(values, pa.string())
            )
        return events

    def _attributes(self, value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for name, member in value.items():
                rule = self._fields.get(name.lower())
                if rule is None:
                    out[name] = self._attributes(member)
                elif rule.action == "hash":
                    out[name] = self.hash(_text(member))
                elif rule.action == "mask":
                    out[name] = MASK
                # drop: left out
            return out
        if isinstance(value, list):
            return [self._attributes(v) for v in value]
        if isinstance(value, str):
            return self.redact_text(value)
        return value

    def _key_map(self, keys: dict[str, str]) -> dict[str, str]:
        return {
            namespace: self.hash(value) if namespace in self._keys else self.redact_text(value)
            for namespace, value in keys.items()
        }

    # -- text ------------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """Free text (a log line, an error, a rejected item) with pattern matches replaced,
        and the values of named fields written as JSON (`"phone": "..."`) masked."""
        for pattern, rule in self._patterns:
            if rule.action == "hash":
                text = pattern.sub(lambda m: self.hash(m.group(0)), text)
            else:
                text = pattern.sub(MASK, text)
        if self._fields and '"' in text:
            text = self._json_fields_in_text(text)
        return text

    def _json_fields_in_text(self, text: str) -> str:
        names = "|".join(re.escape(n) for n in self._fields)
        pattern = re.compile(rf'("(?i:{names})"\s*:\s*)"((?:[^"\\]|\\.)*)"')

        def replace(match: re.Match[str]) -> str:
            rule = self._fields[match.group(0).split('"')[1].lower()]
            shown = self.hash(match.group(2)) if rule.action == "hash" else MASK
            return f'{match.group(1)}"{shown}"'

        return pattern.sub(replace, text)

    def redact_texts(self, texts: pa.Array | pa.ChunkedArray) -> pa.Array:
        """redact_text over a column, touching only the rows a rule can match."""
        if self._selector is None or len(texts) == 0:
            return texts
        hit = pc.fill_null(pc.match_substring_regex(texts, self._selector), False).to_pylist()
        values = texts.to_pylist()
        for i, flagged in enumerate(hit):
            if flagged:
                values[i] = self.redact_text(values[i])
        return pa.array(values, pa.string())

    # -- search ----------------------------------------------------------------------------

    def id_forms(self, value: str) -> list[str]:
        """The stored forms a searched ID may have: itself, its hash, its text redacted."""
        forms = [value]
        if self._keys:
            forms.append(self.hash(value))
        redacted = self.redact_text(value)
        if redacted not in forms:
            forms.append(redacted)
        return forms


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# Text columns of the telemetry tables that may carry personal data.
RECORD_TEXT_COLUMNS = ("body", "attributes", "keys", "status_message", "events", "resource")


def redact_records(table: pa.Table | None, redactor: Redactor | None) -> pa.Table | None:
    """A spans or log-records table with its text columns redacted."""
    if table is None or redactor is None or not redactor.active:
        return table
    for name in RECORD_TEXT_COLUMNS:
        position = table.schema.get_field_index(name)
        if position >= 0:
            column = redactor.redact_texts(table[name].combine_chunks())
            table = table.set_column(position, table.schema.field(position), column)
    return table
