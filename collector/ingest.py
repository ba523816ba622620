"""From a request body to a validated batch: decode, split into items, validate in DuckDB.

Validation runs on the calling thread's own DuckDB cursor (it releases the GIL), so several
requests validate in parallel while the single writer thread commits.
"""

from __future__ import annotations

import functools
import threading
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from collector import fast_check
from collector.event_keys import key_rows
from collector.exceptions import BadBody, BodyTooLarge, UnsupportedContentType
from collector.redaction import Redactor
from tower.db import Store, load_queries
from tower.exceptions import StorageError
from tower.model import EVENT_FIELDS, SYSTEMS

__all__ = [
    "BodyFormat",
    "Item",
    "ValidatedBatch",
    "all_vouched",
    "body_format",
    "decode_body",
    "prepare",
    "split_items",
    "unreadable_body",
    "validate",
    "with_key_rows",
]

SQL = load_queries("collector")
_macros_ready = threading.local()
VALIDATION_CHUNK = 1024


class BodyFormat(StrEnum):
    JSON = "json"  # one object or an array of objects
    NDJSON = "ndjson"  # one object per line


NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/jsonlines",
    "application/x-jsonlines",
}
JSON_TYPES = {"application/json", "text/json"}


@dataclass(frozen=True, slots=True)
class Item:
    """One raw item of a batch: its position, its NDJSON line (if any) and its text."""

    index: int
    line: int | None
    text: str


@dataclass(frozen=True)
class ValidatedBatch:
    """A batch after validation: rows to store and items refused, both as Arrow tables."""

    events: pa.Table  # columns of validate.sql for valid items
    rejects: pa.Table  # batch_index, line, reason, raw
    items: int
    received_at: datetime

    @functools.cached_property
    def key_rows(self) -> pa.Table:
        """The events' rows for `event_keys` (collector/event_keys.py), cut once on first use:
        the request's thread reads this before it queues the batch, so the writer need not."""
        return key_rows(self.events)


_REJECTS = pa.schema(
    [
        ("batch_index", pa.int32()),
        ("line", pa.int32()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
_NO_REJECTS = _REJECTS.empty_table()


def body_format(content_type: str | None) -> BodyFormat:
    """The body format a Content-Type names; JSON when none is given."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media in NDJSON_TYPES:
        return BodyFormat.NDJSON
    if media in JSON_TYPES or media == "":
        return BodyFormat.JSON
    raise UnsupportedContentType(
        f"Content-Type {media!r} is not supported; send application/json (an object or an "
        "array) or application/x-ndjson (one object per line)"
    )


def decode_body(raw: bytes, *, content_encoding: str | None, max_bytes: int) -> bytes:
    """Undo Content-Encoding, refusing bodies that inflate past `max_bytes`."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise UnsupportedContentType(
            f"Content-Encoding {encoding!r} is not supported; send gzip or none"
        )
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise BadBody(f"body is not valid gzip: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise BodyTooLarge(f"body inflates past the limit of {max_bytes} bytes")
    if not inflater.eof:
        raise BadBody("body is truncated gzip")
    return out


def split_items(body: bytes, fmt: BodyFormat) -> list[Item]:
    """Cut a body into items. Raises BadBody when the body as a whole is unreadable."""
    if fmt is BodyFormat.NDJSON:
        text = _utf8(body)
        items: list[Item] = []
        for number, line in enumerate(text.split("\n"), start=1):
            stripped = line.strip()
            if stripped:
                items.append(Item(len(items), number, stripped))
        return items
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        hint = ""
        if body.lstrip()[:1] == b"{" and b"\n" in body.strip():
            hint = "; for one event per line send Content-Type: application/x-ndjson"
        raise BadBody(f"body is not JSON: {exc}{hint}") from exc
    if isinstance(doc, list):
        return [Item(i, None, orjson.dumps(v).decode()) for i, v in enumerate(doc)]
    return [Item(0, None, _utf8(body).strip())]


def validate(store: Store, items: list[Item], *, received_at: datetime) -> ValidatedBatch:
    """Check every item against the event contract; normalise the good ones.

    The typed pass (collector/fast_check.py) vouches for the common valid event; the others
    are decided by the SQL.
    """
    early = _non_json_numbers(items)
    candidates = [it for it in items if it.index not in early]
    fast, others = _vouch(candidates, received_at)
    if others:
        checked = _check_in_duckdb(store, others, received_at)
        bad = pc.is_valid(checked["reason"])
        slow = checked.filter(pc.invert(bad)).drop_columns(["reason", "line", "line_no"])
        good = pa.concat_tables([fast, slow.cast(fast.schema)]) if slow.num_rows else fast
        refused = checked.filter(bad)
    else:  # planning validate.sql alone costs milliseconds; most batches need none of it
        good, refused = fast, pa.table({"idx": [], "line_no": [], "line": [], "reason": []})
    late = [
        Item(i, n, raw)
        for i, n, raw in zip(
            refused["idx"].to_pylist(),
            refused["line_no"].to_pylist(),
            refused["line"].to_pylist(),
            strict=True,
        )
    ]
    reasons = [
        _explain(r, it.text) for r, it in zip(refused["reason"].to_pylist(), late, strict=True)
    ]
    reasons += [f"not valid JSON: {_json_error(it.text)}" for it in early.values()]
    rejected = late + list(early.values())
    rejects = pa.table(
        {
            "batch_index": [it.index for it in rejected],
            "line": [it.line for it in rejected],
            "reason": reasons,
            "raw": [it.text for it in rejected],
        },
        schema=_REJECTS,
    ).sort_by("batch_index")
    return ValidatedBatch(events=good, rejects=rejects, items=len(items), received_at=received_at)


def _vouch(items: list[Item], received_at: datetime) -> tuple[pa.Table, list[Item]]:
    """The valid items the typed pass vouches for, normalised, and the items it leaves."""
    indexes = [it.index for it in items]
    decoded = fast_check.decode_candidates(indexes, [it.text for it in items], received_at)
    return decoded.columns, [items[p] for p in decoded.others]


def _check_in_duckdb(store: Store, items: list[Item], received_at: datetime) -> pa.Table:
    table = pa.table(
        {
            "idx": pa.array([it.index for it in items], pa.int32()),
            "line_no": pa.array([it.line for it in items], pa.int32()),
            "line": pa.array([it.text for it in items], pa.string()),
        }
    )
    # DuckDB scans an Arrow table one record batch per task: small batches let one request's
    # validation use every core when the others are idle.
    incoming = pa.Table.from_batches(
        table.to_batches(max_chunksize=VALIDATION_CHUNK), schema=table.schema
    )
    params = {"fields": list(EVENT_FIELDS), "systems": list(SYSTEMS), "received_at": received_at}
    cur = store.cursor()
    try:
        if getattr(_macros_ready, "cursor", None) is not cur:
            cur.execute(SQL["macros"])
            _macros_ready.cursor = cur
        cur.register("incoming", incoming)
        try:
            return cur.execute(SQL["validate"], params).to_arrow_table()
        finally:
            cur.unregister("incoming")
    except duckdb.Error as exc:
        raise StorageError(f"validating a batch of {len(items)} items: {exc}") from exc


def _non_json_numbers(items: list[Item]) -> dict[int, Item]:
    """Items with NaN or Infinity, which DuckDB's JSON reader accepts and RFC 8259 does not.

    Only items that contain those words at all are parsed again, so the common case costs a
    substring search.
    """
    suspects = [it for it in items if "NaN" in it.text or "Infinity" in it.text]
    return {it.index: it for it in suspects if _json_error(it.text) is not None}


def _json_error(text: str) -> str | None:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return str(exc)
    return None


def unreadable_body(body: bytes, reason: str, *, received_at: datetime) -> ValidatedBatch:
    """The batch recorded when a whole body could not be read: no events, one reject."""
    rejects = pa.table(
        {
            "batch_index": [None],
            "line": [None],
            "reason": [reason],
            "raw": [body.decode("utf-8", errors="replace")],
        },
        schema=_REJECTS,
    )
    return ValidatedBatch(events=pa.table({}), rejects=rejects, items=0, received_at=received_at)


def prepare(
    store: Store,
    raw: bytes,
    *,
    fmt: BodyFormat,
    content_encoding: str | None,
    max_bytes: int,
    received_at: datetime,
    redactor: Redactor | None = None,
) -> ValidatedBatch:
    """Decode, split, validate and redact one request body (CPU work: off the event loop)."""
    body = decode_body(raw, content_encoding=content_encoding, max_bytes=max_bytes)
    batch = all_vouched(body, fmt, received_at)
    if batch is None:
        batch = validate(store, split_items(body, fmt), received_at=received_at)
    return with_key_rows(redact(batch, redactor))


def with_key_rows(batch: ValidatedBatch) -> ValidatedBatch:
    """The batch, its key rows cut: call it on the request's thread, not the writer's."""
    batch.key_rows  # noqa: B018  (a cached property: computed here, read by the writer)
    return batch


def all_vouched(body: bytes, fmt: BodyFormat, received_at: datetime) -> ValidatedBatch | None:
    """The batch when the typed pass vouches for every item of the body as it stands.

    Most batches are all valid: this decodes them without cutting the body into items. Any
    doubt about any item, and the caller takes the item by item path, which decides each.
    """
    items = fast_check.decode_body(body, ndjson=fmt is BodyFormat.NDJSON)
    if items is None:
        return None
    events, vouched = fast_check.vouch(items, range(len(items)), received_at)
    if not vouched.all():
        return None
    return ValidatedBatch(
        events=events, rejects=_NO_REJECTS, items=len(items), received_at=received_at
    )


def redact(batch: ValidatedBatch, redactor: Redactor | None) -> ValidatedBatch:
    """The batch with personal data replaced in its events and in the raw text of its rejects."""
    if redactor is None or not redactor.active:
        return batch
    rejects = batch.rejects
    if rejects.num_rows:
        position = rejects.schema.get_field_index("raw")
        rejects = rejects.set_column(
            position, rejects.schema.field(position), redactor.redact_texts(rejects["raw"])
        )
    return replace(batch, events=redactor.redact_events(batch.events), rejects=rejects)


def _explain(reason: str, raw: str) -> str:
    """DuckDB says only that JSON is invalid; orjson says where."""
    if reason != "not valid JSON":
        return reason
    error = _json_error(raw)
    return f"not valid JSON: {error}" if error else reason


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"body is not UTF-8: {exc}") from exc
