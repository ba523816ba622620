"""A typed first pass that vouches for the common valid event without parsing JSON in SQL.

msgspec decodes items into structs whose field types carry the contract's types, lengths and
choices (a wrong type, a long value or an unknown system fails the decode, in C). What msgspec
cannot check is checked on whole columns: the timestamp's RFC 3339 shape and date with Arrow,
the identifier and event-type patterns once per distinct value (a batch has a handful). An item
the pass vouches for is valid; every other item goes to the worded validation
(collector/sql/validate.sql), which decides and explains. So this pass must be sound (it never
vouches for an invalid item) but need not be complete: anything unusual (an escape, whitespace,
no event_id, a timestamp with nanoseconds) simply takes the slower path.
tests/collector/test_validation_parity.py holds both paths to the model's verdicts.

A name given twice in one object is silently collapsed by every decoder, so decoded items are
encoded again and must come back exactly as long as they were sent: for minified items without
escapes, a collapsed duplicate is the only way to come back shorter.

A whole NDJSON or JSON-array body is decoded in one call (`decode_body`): most batches are all
valid, and then no item is ever cut out of the body as text of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import Meta
from msgspec.structs import astuple

from tower.model import EVENT_TYPE, MAX_KEYS, MAX_RELATED, System

__all__ = ["Candidates", "decode_body", "decode_candidates", "vouch", "vouchable_name"]

_ABSENT = msgspec.Raw(b"")
_NULL = b"null"
_UNSET = msgspec.UNSET
_UnsetType = msgspec.UnsetType

KeyValue = Annotated[str, Meta(min_length=1, max_length=256)]


Keys = Annotated[dict[str, KeyValue], Meta(min_length=1, max_length=MAX_KEYS)]


class _Related(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    object_type: str
    keys: Keys


class _Item(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    # Fields left out keep a default the encoder omits (UNSET, an empty Raw), so encoding
    # again writes back exactly the names that were sent. The bounds are tower/model.py's.
    event_id: Annotated[str, Meta(min_length=1, max_length=256)]
    occurred_at: str
    source: Annotated[str, Meta(min_length=1, max_length=128)]
    system: System
    type: Annotated[str, Meta(max_length=128)]
    object_type: str
    keys: Keys
    facility: Annotated[str, Meta(min_length=1, max_length=64)] | None | _UnsetType = _UNSET
    correlation_id: Annotated[str, Meta(min_length=1, max_length=256)] | None | _UnsetType = _UNSET
    status: Literal["ok", "error"] | None | _UnsetType = _UNSET
    error: Annotated[str, Meta(max_length=8192)] | None | _UnsetType = _UNSET
    attributes: msgspec.Raw = _ABSENT
    related: msgspec.Raw = _ABSENT


_FIELDS = _Item.__struct_fields__
_OPTIONAL = ("facility", "correlation_id", "status", "error")
_TEXT = ("event_id", "source", "system", "type", "object_type")
_RAW_NULL = msgspec.Raw(_NULL)
_RAW_EMPTY = msgspec.Raw(b"[]")
_decode_one = msgspec.json.Decoder(_Item).decode
_decode_many = msgspec.json.Decoder(list[_Item]).decode
_decode_lines = msgspec.json.Decoder(_Item).decode_lines
Related = Annotated[list[_Related], Meta(max_length=MAX_RELATED)]
_decode_related = msgspec.json.Decoder(Related).decode
_decode_related_lists = msgspec.json.Decoder(list[Related]).decode
_encode = msgspec.json.Encoder().encode
_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)

# tower/model.py's RFC3339 (upper-cased first), narrowed to what Arrow parses exactly as the
# contract does: at most microseconds. Other valid timestamps are left to the SQL.
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_UTC_MICROS = pa.timestamp("us", tz="UTC")
# The UTC instants Python can hold, in microseconds: years 1 to 9999 (model.py _as_utc).
_DAY_MICROS = 86_400_000_000
_YEAR_1 = (date(1, 1, 1) - date(1970, 1, 1)).days * _DAY_MICROS
_YEAR_10000 = (date(9999, 12, 31) - date(1970, 1, 1)).days * _DAY_MICROS + _DAY_MICROS
_EVENT_TYPE = re.compile(EVENT_TYPE)

# The columns collector/sql/validate.sql gives a valid item, in its order and types.
SCHEMA = pa.schema(
    [
        ("idx", pa.int32()),
        ("event_id", pa.string()),
        ("occurred_at", _UTC_MICROS),
        ("received_at", _UTC_MICROS),
        ("source", pa.string()),
        ("system", pa.string()),
        ("facility", pa.string()),
        ("type", pa.string()),
        ("object_type", pa.string()),
        ("keys", pa.string()),
        ("correlation_id", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("attributes", pa.string()),
        ("related", pa.string()),
    ]
)

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Items the pass vouched for, as validated columns, and the positions of the others."""

    columns: pa.Table  # SCHEMA
    others: list[int]  # positions in the lists given to decode_candidates()


def decode_body(body: bytes, *, ndjson: bool) -> list[Any] | None:
    """Every item of a minified, escape-free body in one decode; None when any is otherwise.

    For NDJSON, one item per line: the lines are counted, and the length check then leaves no
    room for two items on one line, a blank line or whitespace anywhere.
    """
    if b"\\" in body:
        return None  # an escape may encode back to another length
    try:
        if ndjson:
            items = _decode_lines(body)
            newlines = body.count(b"\n")
            lines = newlines + (0 if body.endswith(b"\n") else 1)
            if len(items) != lines or b"\n\n" in body or body.startswith(b"\n"):
                return None
            sent = len(body) - newlines + len(items) + 1  # as one JSON array
        elif body.startswith(b"["):
            items = _decode_many(body)
            sent = len(body)
        else:
            items = [_decode_one(body)]
            sent = len(body) + 2
    except _DECODE_ERRORS:
        return None
    if not items or len(_encode(items)) != sent:
        return None
    return list(items)


def decode_candidates(
    indexes: Sequence[int], texts: Sequence[str], received_at: datetime
) -> Candidates:
    """Decode and check items (batch index, text); the ones the pass cannot vouch for are others."""
    decoded = _decode_batch(texts)
    if decoded is None:
        decoded = [_decode_alone(text) for text in texts]
    positions = [p for p, item in enumerate(decoded) if item is not None]
    items = [decoded[p] for p in positions]
    columns, vouched = vouch(items, [indexes[p] for p in positions], received_at)
    if vouched.all():
        others = [p for p, item in enumerate(decoded) if item is None]
    else:
        columns = columns.filter(pa.array(vouched))
        refused = {positions[p] for p in np.flatnonzero(~vouched)}
        others = [p for p, item in enumerate(decoded) if item is None or p in refused]
    return Candidates(columns=columns, others=others)


def _decode_batch(texts: Sequence[str]) -> list[Any] | None:
    """All items in one decode, when every one is a minified, escape-free, valid-shaped item."""
    items = decode_body(("[" + ",".join(texts) + "]").encode(), ndjson=False)
    return items if items is not None and len(items) == len(texts) else None


def _decode_alone(text: str) -> Any:
    raw = text.encode()
    if b"\\" in raw:
        return None  # an escape may encode back to another length; let the SQL decide
    try:
        item = _decode_one(raw)
    except _DECODE_ERRORS:
        return None
    return item if len(_encode(item)) == len(raw) else None


def vouch(
    items: Sequence[Any], indexes: Sequence[int], received_at: datetime
) -> tuple[pa.Table, Mask]:
    """Decoded items as validated columns (SCHEMA), and for each whether the pass vouches for it.

    A row not vouched for is not necessarily invalid: the caller sends it on to the SQL, which
    decides. Its values in the columns are then meaningless.
    """
    count = len(items)
    fields = list(zip(*(astuple(item) for item in items), strict=True)) or [()] * len(_FIELDS)
    column = dict(zip(_FIELDS, fields, strict=True))
    ok = np.ones(count, dtype=bool)
    ok &= _matching(column["object_type"], vouchable_name)
    ok &= _matching(column["type"], _is_event_type)
    ok &= _names_ok(column["keys"])
    related, related_ok = _related_texts(column["related"])
    ok &= related_ok
    attributes = [
        "{}" if not raw or raw == _RAW_NULL else bytes(raw).decode() for raw in column["attributes"]
    ]
    table: dict[str, Any] = {"idx": pa.array(indexes, pa.int32())}
    for name in _TEXT:
        table[name] = pa.array(column[name], pa.string())
    for name in _OPTIONAL:
        table[name] = pa.array([None if v is _UNSET else v for v in column[name]], pa.string())
    table["status"] = pc.coalesce(table["status"], "ok")
    table["keys"] = pa.array([_encode(keys).decode() for keys in column["keys"]], pa.string())
    table["attributes"] = pa.array(attributes, pa.string())
    ok &= np.asarray(pc.starts_with(table["attributes"], "{"), bool)
    table["related"] = pa.array(related, pa.string())
    occurred, timestamp_ok = _timestamps(pa.array(column["occurred_at"], pa.string()))
    table["occurred_at"] = occurred
    ok &= timestamp_ok
    table["received_at"] = pa.array(np.full(count, _micros(received_at)), _UTC_MICROS)
    return pa.table([table[f.name] for f in SCHEMA], schema=SCHEMA), ok


def _is_event_type(value: str) -> bool:
    return _EVENT_TYPE.fullmatch(value) is not None


def _matching(values: Sequence[str], check: Callable[[str], bool]) -> Mask:
    """Which values pass `check`, checking each distinct value once."""
    verdicts = {value: check(value) for value in set(values)}
    if all(verdicts.values()):
        return np.ones(len(values), dtype=bool)
    return np.fromiter((verdicts[value] for value in values), bool, len(values))


def _names_ok(keys: Sequence[dict[str, str]]) -> Mask:
    """Which items' key namespaces are all identifiers, checking each distinct name once."""
    names = set(chain.from_iterable(keys))
    if all(vouchable_name(name) for name in names):
        return np.ones(len(keys), dtype=bool)
    return np.fromiter((all(map(vouchable_name, k)) for k in keys), bool, len(keys))


def _timestamps(texts: pa.Array) -> tuple[pa.Array, Mask]:
    """Parsed UTC timestamps and which texts the pass vouches for as RFC 3339 real dates."""
    texts = pc.ascii_upper(texts)  # 't' and 'z' are RFC 3339 too
    shaped = np.asarray(pc.match_substring_regex(texts, _TIMESTAMP), bool)
    if shaped.all():
        try:
            parsed = pc.cast(texts, _UTC_MICROS)
        except pa.ArrowInvalid:
            pass  # a real-looking date that is not one (2026-02-30): the SQL words it
        else:
            micros = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
            return parsed, (micros >= _YEAR_1) & (micros < _YEAR_10000)
    nothing = pa.nulls(len(texts), _UTC_MICROS)
    return nothing, np.zeros(len(texts), dtype=bool)


def _micros(moment: datetime) -> int:
    return int(pa.scalar(moment, _UTC_MICROS).value)


def _related_texts(raws: Sequence[msgspec.Raw]) -> tuple[list[str], Mask]:
    """Each item's related list as text ("[]" for none), and whether the pass vouches for it."""
    texts = ["[]"] * len(raws)
    ok = np.ones(len(raws), dtype=bool)
    given = [p for p, raw in enumerate(raws) if raw and raw != _RAW_NULL and raw != _RAW_EMPTY]
    chunks = [bytes(raws[p]) for p in given]
    for p, chunk, fine in zip(given, chunks, _related_verdicts(chunks), strict=True):
        texts[p] = chunk.decode()
        ok[p] = fine
    return texts, ok


def _related_verdicts(chunks: list[bytes]) -> list[bool]:
    """For each related list (minified JSON text), whether the pass vouches for it."""
    if not chunks:
        return []
    decoded: list[Any] | None = None
    joined = b"[" + b",".join(chunks) + b"]"
    try:
        lists = _decode_related_lists(joined)
        if len(_encode(lists)) == len(joined):
            decoded = list(lists)
    except _DECODE_ERRORS:
        pass
    if decoded is None:
        decoded = [_decode_related_alone(chunk) for chunk in chunks]
    objects = [o for objects in decoded if objects for o in objects]
    names = {o.object_type for o in objects} | set(chain.from_iterable(o.keys for o in objects))
    if all(vouchable_name(name) for name in names):
        return [objects is not None for objects in decoded]
    return [
        objects is not None
        and all(vouchable_name(o.object_type) and all(map(vouchable_name, o.keys)) for o in objects)
        for objects in decoded
    ]


def _decode_related_alone(chunk: bytes) -> list[Any] | None:
    try:
        objects = _decode_related(chunk)
    except _DECODE_ERRORS:
        return None
    return objects if len(_encode(objects)) == len(chunk) else None


def vouchable_name(name: str) -> bool:
    """A lower_snake_case identifier of at most 64 characters (tower/model.py IDENTIFIER)."""
    return (
        0 < len(name) <= 64
        and name.isascii()
        and name[0].islower()
        and name.replace("_", "").isalnum()
        and name == name.lower()
    )
