"""A typed first pass that vouches for the common valid event without parsing JSON in SQL.

msgspec decodes a whole batch at once into structs with the contract's field types (a wrong
JSON type fails the decode), and collector/sql/vouch.sql then checks lengths, patterns and
timestamps on plain columns, in parallel, instead of on JSON fragments. An item both vouch for
is valid; every other item goes to the worded validation (collector/sql/validate.sql), which
decides and explains. So this pass must be sound (it never vouches for an invalid item) but need
not be complete: anything unusual (an escape, whitespace, no event_id, keys over 256
characters) simply takes the slower path. tests/collector/test_validation_parity.py holds both
paths to the model's verdicts.

A name given twice in one object is silently collapsed by every decoder, so decoded items are
encoded again and must come back exactly as long as they were sent: for minified items without
escapes, a collapsed duplicate is the only way to come back shorter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pyarrow as pa
from msgspec.structs import astuple

from tower.model import MAX_KEYS, MAX_RELATED

__all__ = ["Candidates", "decode_candidates"]

_ABSENT = msgspec.Raw(b"")
_NULL = b"null"
_UNSET = msgspec.UNSET


class _Related(msgspec.Struct, forbid_unknown_fields=True):
    object_type: str
    keys: dict[str, str]


class _Item(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # Fields left out keep a default the encoder omits (UNSET, an empty Raw), so encoding
    # again writes back exactly the names that were sent.
    event_id: str
    occurred_at: str
    source: str
    system: str
    type: str
    object_type: str
    keys: dict[str, str]
    facility: str | None | msgspec.UnsetType = _UNSET
    correlation_id: str | None | msgspec.UnsetType = _UNSET
    status: str | None | msgspec.UnsetType = _UNSET
    error: str | None | msgspec.UnsetType = _UNSET
    attributes: msgspec.Raw = _ABSENT
    related: msgspec.Raw = _ABSENT


_FIELDS = _Item.__struct_fields__
_OPTIONAL = {"facility", "correlation_id", "status", "error"}
_RAW_DEFAULTS = {"attributes": "{}", "related": "[]"}  # absent or null
_RAW_NULL = msgspec.Raw(_NULL)
_RAW_NONE_RELATED = msgspec.Raw(b"[]")
_decode_one = msgspec.json.Decoder(_Item).decode
_decode_many = msgspec.json.Decoder(list[_Item]).decode
_decode_related = msgspec.json.Decoder(list[_Related]).decode
_encode = msgspec.json.Encoder().encode
_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Items decoded into columns for vouch.sql, and the positions of those that were not."""

    columns: pa.Table
    others: list[int]  # positions in the lists given to decode_candidates()


def decode_candidates(indexes: Sequence[int], texts: Sequence[str]) -> Candidates:
    """Decode items (batch index, text) whose shape the typed pass can vouch for."""
    decoded = _decode_batch(texts)
    if decoded is None:
        decoded = [_decode_alone(text) for text in texts]
    kept: list[tuple[int, _Item]] = []
    others: list[int] = []
    for position, item in enumerate(decoded):
        if item is None or not _extras_ok(item):
            others.append(position)
        else:
            kept.append((indexes[position], item))
    return Candidates(columns=_columns(kept), others=others)


def _decode_batch(texts: Sequence[str]) -> list[_Item | None] | None:
    """All items in one decode, when every one is a minified, escape-free, valid-shaped item."""
    body = ("[" + ",".join(texts) + "]").encode()
    if b"\\" in body:
        return None
    try:
        items = _decode_many(body)
    except _DECODE_ERRORS:
        return None
    if len(items) != len(texts) or len(_encode(items)) != len(body):
        return None
    return list(items)


def _decode_alone(text: str) -> _Item | None:
    raw = text.encode()
    if b"\\" in raw:
        return None  # an escape may encode back to another length; let the SQL decide
    try:
        item = _decode_one(raw)
    except _DECODE_ERRORS:
        return None
    return item if len(_encode(item)) == len(raw) else None


def _extras_ok(item: _Item) -> bool:
    """What vouch.sql cannot see on its columns: the related objects (attributes it can)."""
    related = item.related
    if not related or related == _RAW_NULL or related == _RAW_NONE_RELATED:
        return True
    return _related_ok(bytes(related))


def _related_ok(raw: bytes) -> bool:
    if not raw.startswith(b"["):
        return False
    try:
        objects = _decode_related(raw)
    except _DECODE_ERRORS:
        return False
    if len(objects) > MAX_RELATED or len(_encode(objects)) != len(raw):
        return False
    return all(
        vouchable_name(o.object_type)
        and 0 < len(o.keys) <= MAX_KEYS
        and all(vouchable_name(n) and 0 < len(v) <= 256 for n, v in o.keys.items())
        for o in objects
    )


def vouchable_name(name: str) -> bool:
    """A lower_snake_case identifier of at most 64 characters (tower/model.py IDENTIFIER)."""
    return (
        0 < len(name) <= 64
        and name.isascii()
        and name[0].islower()
        and name.replace("_", "").isalnum()
        and name == name.lower()
    )


def _columns(kept: list[tuple[int, _Item]]) -> pa.Table:
    # One C-level transpose of the structs' fields instead of a Python loop per column.
    fields = list(zip(*(astuple(item) for _, item in kept), strict=True)) or [()] * len(_FIELDS)
    column = dict(zip(_FIELDS, fields, strict=True))
    string = pa.string()
    table = {"idx": pa.array([index for index, _ in kept], pa.int32())}
    for name in _FIELDS:
        values: Sequence[Any] = column[name]
        if name in _OPTIONAL:
            values = [None if v is _UNSET else v for v in values]
        elif name == "keys":
            values = [_encode(keys).decode() for keys in values]
        elif name in _RAW_DEFAULTS:
            default = _RAW_DEFAULTS[name]
            values = [default if not r or r == _RAW_NULL else bytes(r).decode() for r in values]
        table[name] = pa.array(values, string)
    return pa.table(table)
