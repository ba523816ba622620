"""The rows an event adds to `event_keys`: its own keys, and the keys of each related object.

They are cut from a validated batch's text columns on the request's thread, so the single
writer only appends them (exploding JSON in the writer's SQL took a quarter of its time).
"""

from __future__ import annotations

from itertools import chain

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["KEY_ROWS", "key_rows"]

KEY_ROWS = pa.schema(
    [
        ("idx", pa.int32()),  # the event's position in its batch
        ("related_index", pa.int32()),  # NULL: the event's own object
        ("object_type", pa.string()),
        ("namespace", pa.string()),
        ("value", pa.string()),
    ]
)


class _Link(msgspec.Struct, gc=False):
    object_type: str
    keys: dict[str, str]


_decode_keys = msgspec.json.Decoder(list[dict[str, str]]).decode
_decode_links = msgspec.json.Decoder(list[list[_Link]]).decode


def key_rows(events: pa.Table) -> pa.Table:
    """Key rows (KEY_ROWS) of validated events (idx, object_type, keys and related as text)."""
    if not events.num_rows:
        return KEY_ROWS.empty_table()
    owner, namespaces, values = _own_keys(events["keys"])
    own = pa.table(
        [
            events["idx"].take(owner),
            pa.nulls(len(owner), pa.int32()),
            events["object_type"].take(owner),
            namespaces,
            values,
        ],
        schema=KEY_ROWS,
    )
    linking = events.filter(pc.not_equal(events["related"], "[]"))
    if not linking.num_rows:
        return own
    linked = _decode_links(_as_json_list(linking["related"]))
    rows: list[tuple[int, int, str, str, str]] = [
        (idx, position, link.object_type, namespace, value)
        for idx, links in zip(linking["idx"].to_pylist(), linked, strict=True)
        for position, link in enumerate(links)
        for namespace, value in link.keys.items()
    ]
    if not rows:
        return own
    columns = list(zip(*rows, strict=True))
    related = pa.table(
        [pa.array(column, field.type) for column, field in zip(columns, KEY_ROWS, strict=True)],
        schema=KEY_ROWS,
    )
    return pa.concat_tables([own, related])


def _own_keys(texts: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], pa.Array, pa.Array]:
    """For each key of each keys object: the event's row, the namespace and the value."""
    flat = texts.combine_chunks()
    if pc.any(pc.match_substring(flat, "\\")).as_py():
        keys = _decode_keys(_as_json_list(texts))
        owner = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
        namespaces = pa.array(list(chain.from_iterable(keys)), pa.string())
        values = pa.array(list(chain.from_iterable(k.values() for k in keys)), pa.string())
        return owner, namespaces, values
    # Without escapes a quote only ever opens or closes a string, so an object of strings cut
    # at its quotes is `{`, name, `:`, value, `,`, name, ... : names at 1 + 4j, values at 3 + 4j.
    pieces = pc.split_pattern(flat, '"')
    starts = pieces.offsets.to_numpy()
    pairs = (np.diff(starts) - 1) // 4
    owner = np.repeat(np.arange(len(pairs)), pairs)
    first = np.repeat(starts[:-1], pairs)
    nth = np.arange(len(owner)) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    strings = pieces.values
    return owner, strings.take(first + 1 + 4 * nth), strings.take(first + 3 + 4 * nth)


def _as_json_list(texts: pa.ChunkedArray) -> bytes:
    """JSON texts joined into one JSON array, without a Python string per text."""
    flat = texts.combine_chunks()
    one_list = pa.ListArray.from_arrays(pa.array([0, len(flat)], pa.int32()), flat)
    joined: str = pc.binary_join(one_list, ",")[0].as_py()
    return b"[" + joined.encode() + b"]"
