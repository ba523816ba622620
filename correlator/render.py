"""A journey as a readable terminal timeline (for `tower trace`). Pure: data in, rich out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tower.durations import format_duration

__all__ = ["journey_panel"]

STATUS_STYLE = {
    "on_track": "green",
    "at_risk": "yellow",
    "stalled": "red",
    "failed": "red",
    "done": "blue",
}


def journey_panel(journey: dict[str, Any]) -> RenderableType:
    """Header, stage history with hop latencies, anomalies, events, related journeys."""
    status = journey["status"]
    head = Text.assemble(
        (f"{journey['label']}", "bold"),
        f"  {journey['kind']} #{journey['journey_id']}  ",
        (status, STATUS_STYLE.get(status, "")),
        f"  stage {journey['stage'] or '-'}",
    )
    facts = [
        f"{name}: {journey[name]}"
        for name in ("facility", "customer", "channel")
        if journey.get(name)
    ]
    if journey.get("value") is not None:
        facts.append(f"value: {journey['value']:,.2f} {journey.get('currency') or ''}".strip())
    aliases = ", ".join(f"{ns}={'/'.join(vs)}" for ns, vs in sorted(journey["keys"].items()))
    parts: list[RenderableType] = [
        head,
        Text("  ".join(facts), style="dim"),
        Text(f"IDs: {aliases}", style="dim"),
    ]

    stages = Table(title="stages", title_justify="left", expand=False, box=None)
    for column in ("stage", "entered (UTC)", "system", "hop", "took"):
        stages.add_column(column)
    for visit in journey["history"]:
        hop = (
            f"{visit['from_system']} -> {visit['system']}"
            if visit["from_system"]
            else visit["system"]
        )
        took = (
            ""
            if visit["latency_seconds"] is None
            else format_duration(timedelta(seconds=visit["latency_seconds"]))
        )
        stages.add_row(visit["stage"], _time(visit["entered_at"]), visit["system"], hop, took)
    parts.append(stages)

    if journey["anomalies"]:
        anomalies = Table(title="anomalies", title_justify="left", box=None)
        for column in ("at (UTC)", "kind", "detail"):
            anomalies.add_column(column)
        for anomaly in journey["anomalies"]:
            anomalies.add_row(
                _time(anomaly["at"]), Text(anomaly["kind"], style="red"), anomaly["detail"]
            )
        parts.append(anomalies)

    events = Table(title="events", title_justify="left", box=None)
    for column in ("occurred (UTC)", "system", "source", "type", "object", "status"):
        events.add_column(column)
    for event in journey["events"]:
        events.add_row(
            _time(event["occurred_at"]),
            event["system"],
            event["source"],
            event["type"],
            event["object_type"],
            Text(event["status"], style="red" if event["status"] == "error" else ""),
        )
    parts.append(events)

    if journey["related"]:
        related = Table(title="related journeys", title_justify="left", box=None)
        for column in ("relation", "kind", "journey", "stage"):
            related.add_column(column)
        for other in journey["related"]:
            related.add_row(
                other["relation"].replace("_", " "),
                other["kind"],
                f"{other['label']} (#{other['journey_id']})",
                other["stage"] or "-",
            )
        parts.append(related)
    return Panel(Group(*parts), expand=False)


def _time(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else "-"
