"""What X12 and EDIFACT document events share: one event built from a document's facts.

Events are built unvalidated (Event.model_construct), as in adapters/derive.py: the collector
validates them like any other.
"""

from __future__ import annotations

from typing import Any

from tower.model import Event, RelatedObject

__all__ = ["document_event"]


def document_event(
    *,
    event_id: str,
    type: str,
    base: dict[str, Any],
    object_type: str,
    keys: dict[str, str],
    attrs: dict[str, Any],
    related: list[dict[str, Any]],
    status: str,
    error: str | None,
) -> Event:
    """An EDI event: the document's base fields, empty keys and attributes left out."""
    return Event.model_construct(
        event_id=event_id,
        occurred_at=base["occurred_at"],
        source=base["source"],
        system="edi",
        type=type,
        object_type=object_type,
        keys={k: v[:256] for k, v in keys.items() if v},
        status=status,
        error=error,
        attributes={k: v for k, v in (base["attributes"] | attrs).items() if v not in (None, "")},
        related=[RelatedObject.model_construct(**r) for r in related],
    )
