"""What the dashboards read: the correlator's service functions, and aggregates of their own.

Every aggregate runs in DuckDB (SQL in dashboards/sql/*.sql, always parameterised); Python only
reshapes the few rows that come back. Status is the correlator's own rule: a file that needs it
starts `WITH j AS ({journeys_now})`, and the marker is replaced by correlator/sql/
journeys_now.sql (trusted text from the package, never input).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from alerts import service as alerts_service
from correlator import service
from sla import service as sla_service
from tower.db import Store, load_queries

__all__ = [
    "PERIODS",
    "dimensions",
    "drift",
    "error_rates",
    "exception_trend",
    "hop_lag",
    "hop_lag_over_time",
    "journey",
    "open_alerts",
    "period",
    "process_funnel",
    "process_hops",
    "queue_latest",
    "recent_rejects",
    "risk_breakdown",
    "risk_summary",
    "search",
    "slo_status",
    "statement",
    "top_stalled",
    "variants",
]

# period name -> (how far back, the bucket its time series use)
PERIODS: dict[str, tuple[timedelta, timedelta]] = {
    "6h": (timedelta(hours=6), timedelta(minutes=15)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "3d": (timedelta(days=3), timedelta(hours=3)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}


@cache
def _sql() -> dict[str, str]:
    journeys_now = load_queries("correlator")["journeys_now"]
    return {
        name: text.replace("{journeys_now}", journeys_now)
        for name, text in load_queries("dashboards").items()
    }


def statement(name: str) -> str:
    """The text of dashboards/sql/<name>.sql (with the journeys_now marker filled in)."""
    return _sql()[name]


def period(name: str) -> tuple[timedelta, timedelta]:
    """How far back a period name reaches, and its bucket; unknown names read as 24h."""
    return PERIODS.get(name, PERIODS["24h"])


# -- executive -------------------------------------------------------------------------------


def risk_summary(*, store: Store, now: datetime, kind: str = "order") -> dict[str, Any]:
    """Open journeys by status: counts, and value per currency, for the headline figures."""
    rows = store.query(
        _sql()["risk_summary"], {"now": now, "kind": kind}, doing="summarising open journeys"
    )
    summary: dict[str, Any] = {
        status: {"journeys": 0, "amounts": []} for status in ("on_track", "at_risk", "stalled")
    }
    for row in rows:  # at most (statuses x currencies) rows, already aggregated
        entry = summary.setdefault(row["status"], {"journeys": 0, "amounts": []})
        entry["journeys"] += row["journeys"]
        if row["value"] is not None:
            entry["amounts"].append({"currency": row["currency"], "value": row["value"]})
    summary["open"] = sum(summary[s]["journeys"] for s in ("on_track", "at_risk", "stalled"))
    return summary


def risk_breakdown(
    *, store: Store, now: datetime, kind: str = "order", limit: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """At-risk and stalled journeys by stage, facility, channel and customer (top `limit` each)."""
    rows = store.query(
        _sql()["risk_breakdown"],
        {"now": now, "kind": kind, "limit": limit},
        doing="breaking down journeys at risk",
    )
    breakdown: dict[str, list[dict[str, Any]]] = {
        dimension: [] for dimension in ("stage", "facility", "channel", "customer")
    }
    for row in rows:
        breakdown[row.pop("dimension")].append(row)
    return breakdown


def top_stalled(
    *, store: Store, now: datetime, kind: str = "order", limit: int = 10
) -> list[dict[str, Any]]:
    """The stalled journeys with the most value at stake."""
    rows, _ = service.list_journeys(
        store=store,
        now=now,
        filters={"kind": kind, "status": "stalled"},
        sort="value",
        order="desc",
        limit=limit,
    )
    return rows


def exception_trend(
    *, store: Store, now: datetime, since: datetime, bucket: timedelta, kind: str = "order"
) -> list[dict[str, Any]]:
    """Journeys started per bucket and how many met an exception."""
    return store.query(
        _sql()["exception_trend"],
        {"now": now, "since": since, "bucket": bucket, "kind": kind},
        doing="computing the exception trend",
    )


# -- trace search ----------------------------------------------------------------------------


def search(*, store: Store, q: str, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Journeys an ID or a query finds (raises SearchSyntaxError for a bad query)."""
    return service.search_journeys(store=store, q=q, now=now, limit=limit)


def journey(*, store: Store, journey_id: int, now: datetime) -> dict[str, Any] | None:
    """One journey with its timeline, history, anomalies and neighbours."""
    return service.journey_detail(store=store, journey_id=journey_id, now=now)


# -- facilities ------------------------------------------------------------------------------


def hop_lag(*, store: Store, since: datetime, facility: str | None = None) -> list[dict[str, Any]]:
    """Inventory hop lag p50/p95/max per facility and hop since `since`."""
    return service.inventory_lag(store=store, since=since, facility=facility)


def hop_lag_over_time(
    *,
    store: Store,
    now: datetime,
    since: datetime,
    bucket: timedelta,
    facility: str | None = None,
) -> list[dict[str, Any]]:
    """Inventory hop lag p50/p95 per facility, system pair and time bucket."""
    return store.query(
        _sql()["hop_lag_buckets"],
        {"now": now, "since": since, "bucket": bucket, "facility": facility},
        doing="computing inventory lag over time",
    )


def drift(
    *, store: Store, now: datetime, facility: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """SKUs whose positions disagree between systems, biggest gap first."""
    return service.inventory_drift(store=store, now=now, facility=facility, limit=limit)


# -- process map -----------------------------------------------------------------------------


def _cohort(
    now: datetime, since: datetime, kind: str, facility: str | None, channel: str | None
) -> dict[str, Any]:
    return {"now": now, "since": since, "kind": kind, "facility": facility, "channel": channel}


def process_hops(
    *,
    store: Store,
    now: datetime,
    since: datetime,
    kind: str,
    facility: str | None = None,
    channel: str | None = None,
) -> list[dict[str, Any]]:
    """Stage-to-stage hops with counts, p50/p95 latency and the usual system pair."""
    return store.query(
        _sql()["process_hops"],
        _cohort(now, since, kind, facility, channel),
        doing="reading the process map",
    )


def process_funnel(
    *,
    store: Store,
    now: datetime,
    since: datetime,
    kind: str,
    facility: str | None = None,
    channel: str | None = None,
    main_line: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Journeys reaching each stage: the model's main line in order when given (side states
    such as cancelled left out), else every stage in its usual order."""
    cohort = _cohort(now, since, kind, facility, channel)
    if not main_line:
        return store.query(_sql()["stage_funnel"], cohort, doing="reading the stage funnel")
    rows = store.query(_sql()["stage_reach"], cohort, doing="reading the stage funnel")
    reached = {row["stage"]: row for row in rows}
    return [reached[stage] for stage in main_line if stage in reached]


def variants(
    *,
    store: Store,
    now: datetime,
    since: datetime,
    kind: str,
    facility: str | None = None,
    channel: str | None = None,
    limit: int = 8,
) -> list[dict[str, Any]]:
    """The most frequent stage sequences and their share."""
    return store.query(
        _sql()["variants"],
        {**_cohort(now, since, kind, facility, channel), "limit": limit},
        doing="reading process variants",
    )


def dimensions(*, store: Store) -> dict[str, list[str]]:
    """The kinds, facilities and channels that occur, for the filters."""
    rows = store.query(_sql()["dimensions"], doing="reading filter values")
    found: dict[str, list[str]] = {"kind": [], "facility": [], "channel": []}
    for row in rows:
        found[row["field"]].append(row["value"])
    return found


# -- on-call ---------------------------------------------------------------------------------

OPEN_STATES = ["firing", "pending"]


def open_alerts(*, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Firing, then pending alerts, with labels, ack and silencing at `now` (the alerts
    service's own listing, as GET /api/v1/alerts?state=firing&state=pending gives it)."""
    return alerts_service.list_alerts(store=store, now=now, states=OPEN_STATES)


def slo_status(*, store: Store) -> list[dict[str, Any]]:
    """Each evaluated SLO: objective, SLI, error budget left and burn rate per window pair.

    Window lengths are seconds; an SLO not yet evaluated (or without events) has None where
    there is nothing to measure.
    """
    found = []
    for row in sla_service.sla_state(store=store):
        detail = row["detail"]
        if not isinstance(detail, dict) or "status" not in detail:
            continue  # an SLA: its breaches are alerts, not budgets
        status = detail["status"]
        found.append(
            {
                "name": row["name"],
                "evaluated_at": row["evaluated_at"],
                "skipped": row["skipped"],
                "objective": status["objective"],
                "sli": status["sli"],
                "events": status["events"],
                "budget_remaining": status["budget_remaining"],
                "windows": status["windows"],
            }
        )
    return sorted(found, key=lambda slo: str(slo["name"]))


def queue_latest(*, store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The newest sample of every queue (depth, oldest message's age), deepest first."""
    return store.query(
        _sql()["queue_latest"], {"limit": limit}, doing="reading the latest queue samples"
    )


def error_rates(
    *, store: Store, now: datetime, since: datetime, limit: int = 20
) -> list[dict[str, Any]]:
    """Events and errors per source in [since, now], most errors first."""
    return store.query(
        _sql()["error_rates"],
        {"now": now, "since": since, "limit": limit},
        doing="computing error rates by source",
    )


def recent_rejects(*, store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The collector's most recent refusals, newest first (raw cut to 200 characters)."""
    return store.query(
        _sql()["recent_rejects"], {"limit": limit}, doing="reading the collector's rejects"
    )
