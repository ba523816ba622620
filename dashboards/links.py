"""Pure link builders: search queries for drill-downs and URLs inside the dashboards."""

from __future__ import annotations

import shlex
from urllib.parse import urlencode

__all__ = ["href", "search_query"]


def search_query(**terms: str | None) -> str:
    """A journeys search for field values: status:stalled facility:DC-EAST.

    An empty value means 'has none' (written -field:*), so a bar for journeys without a
    facility drills down to exactly those journeys.
    """
    parts = []
    for name, value in terms.items():
        if value is None:
            continue
        parts.append(f"-{name}:*" if value == "" else shlex.quote(f"{name}:{value}"))
    return " ".join(parts)


def href(prefix: str, path: str, **params: str | None) -> str:
    """A URL inside the dashboards, e.g. href('/ui/', 'trace', q='W-1001')."""
    query = {name: value for name, value in params.items() if value}
    url = prefix.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{urlencode(query)}" if query else url
