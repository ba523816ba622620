"""The journey search language, compiled to a parameterised SQL condition.

    W-1001                       any ID of the journey, or of an object that references it
    1Z*                          wildcard
    status:stalled facility:DC-EAST -customer:ACME     terms are AND-ed; '-' excludes
    stage:allocated OR stage:picked                     OR binds looser than AND
    "customer:ACME Corp"         quotes keep spaces

Fields: kind, stage, status, facility, customer, channel, source, system, anomaly.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tower.exceptions import TowerError

__all__ = ["FIELDS", "CompiledQuery", "SearchSyntaxError", "compile_query"]


class SearchSyntaxError(TowerError):
    status_code = 400
    code = "bad_query"


# field -> SQL over the journey row `j` (a value placeholder is appended by the compiler)
FIELDS: dict[str, str] = {
    "kind": "j.kind",
    "stage": "j.stage",
    "status": "j.status",
    "facility": "j.facility",
    "customer": "j.customer",
    "channel": "j.channel",
}
LIST_FIELDS: dict[str, str] = {
    "source": "j.sources",
    "system": "j.systems",
    "anomaly": "j.anomaly_kinds",
}
STATUSES = {"on_track", "at_risk", "stalled", "failed", "done"}

ID_MATCH = """j.journey_id IN (
    SELECT journey_id FROM identity WHERE {match}
    UNION
    SELECT l.to_journey FROM journey_links AS l
    WHERE l.from_journey IN (SELECT journey_id FROM identity WHERE {match}))"""


@dataclass(slots=True)
class CompiledQuery:
    where: str
    params: dict[str, Any] = field(default_factory=dict)


IdForms = Callable[[str], list[str]]


def compile_query(text: str, *, id_forms: IdForms | None = None) -> CompiledQuery:
    """SQL condition and parameters for a search string. Raises SearchSyntaxError.

    `id_forms` gives the stored forms of a searched ID besides itself (collector/redaction.py:
    a hashed e-mail address is found by the address).
    """
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise SearchSyntaxError(f"cannot read the query: {exc}") from exc
    if not tokens:
        raise SearchSyntaxError("the query is empty; give an ID or a field:value term")
    params: dict[str, Any] = {}
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == "OR":
            if not groups[-1]:
                raise SearchSyntaxError("OR needs a term on each side")
            groups.append([])
            continue
        groups[-1].append(_term(token, params, id_forms))
    if not groups[-1]:
        raise SearchSyntaxError("OR needs a term on each side")
    where = " OR ".join("(" + " AND ".join(group) + ")" for group in groups)
    return CompiledQuery(where=where, params=params)


def _term(token: str, params: dict[str, Any], id_forms: IdForms | None) -> str:
    negate = token.startswith("-") and len(token) > 1
    body = token[1:] if negate else token
    name, sep, value = body.partition(":")
    placeholder = f"$p{len(params)}"
    if sep and name in FIELDS | LIST_FIELDS:
        if not value:
            raise SearchSyntaxError(f"{name}: needs a value, e.g. {name}:{_example(name)}")
        if name == "status" and value not in STATUSES:
            raise SearchSyntaxError(f"status: one of {', '.join(sorted(STATUSES))}")
        # field values match case-insensitively; * is a wildcard
        params[placeholder[1:]] = _like(value)
        op = f"ILIKE {placeholder} ESCAPE '\\'"
        if name in FIELDS:
            sql = f"{FIELDS[name]} {op}"
        else:
            sql = f"len(list_filter({LIST_FIELDS[name]}, lambda x: x {op})) > 0"
        return f"coalesce(NOT ({sql}), TRUE)" if negate else f"coalesce({sql}, FALSE)"
    namespace = "TRUE"
    if sep and value and re.fullmatch(r"[a-z][a-z0-9_]*", name):
        # namespace:value names one kind of ID (oms_order:W-1001)
        params[f"ns{len(params)}"] = name
        namespace = f"namespace = $ns{len(params) - 1}"
        body = value
    wildcard = "*" in body
    if wildcard:
        params[placeholder[1:]] = _like(body)
        match = f"{namespace} AND value LIKE {placeholder} ESCAPE '\\'"
    elif id_forms is not None and len(forms := id_forms(body)) > 1:
        # OR of equalities, not IN (list): each stays a lookup the planner can use
        names = [f"{placeholder}_{n}" for n in range(len(forms))]
        params.update({name[1:]: form for name, form in zip(names, forms, strict=True)})
        match = f"{namespace} AND (" + " OR ".join(f"value = {name}" for name in names) + ")"
    else:
        params[placeholder[1:]] = body
        match = f"{namespace} AND value = {placeholder}"
    sql = ID_MATCH.format(match=match)
    return f"NOT ({sql})" if negate else sql


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _example(name: str) -> str:
    return {"status": "stalled", "kind": "order", "facility": "DC-EAST"}.get(name, "value")
