"""`tower status`: the health of a running tower, part by part, in the terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tower.cli.base import app, console, detail


@app.command("status")
def status(
    url: Annotated[
        str, typer.Option(help="The tower's base URL.", envvar="TOWER_URL")
    ] = "http://127.0.0.1:8000",
    as_json: Annotated[bool, typer.Option("--json", help="Print the health answer as JSON.")] = (
        False
    ),
) -> None:
    """Each part (writer, correlator, jobs, receivers, storage) with its lag and last success.

    Exit status 0 when all is well, 1 when a part is failing, 2 when the tower does not answer.
    """
    import httpx

    try:
        response = httpx.get(url.rstrip("/") + "/api/v1/health", timeout=10)
    except httpx.HTTPError as exc:
        console.print(f"[red]no answer from {url}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if response.status_code not in (200, 503):
        console.print(f"[red]{url} answered {response.status_code}: {detail(response)}")
        raise typer.Exit(2)
    health: dict[str, Any] = response.json()
    out = Console(soft_wrap=True)
    if as_json:
        out.print_json(response.text)
    else:
        out.print(_table(health))
        console.print(
            f"{health['status']} · {health['events']} events, last seq {health['last_seq']}, "
            f"schema {health['schema_version']}, checked {health['checked_at']}",
            highlight=False,
        )
    if health["status"] != "ok":
        raise typer.Exit(1)


def _table(health: dict[str, Any]) -> Table:
    table = Table(title="Control Tower status")
    for column in ("part", "status", "lag", "last success", "detail"):
        table.add_column(column, overflow="fold")
    for part in health["parts"]:
        ok = part["status"] == "ok"
        table.add_row(
            part["name"],
            "[green]ok" if ok else "[red]failing",
            _seconds(part.get("lag_seconds")),
            "" if part["name"] in ("storage", "scheduler") else _when(part.get("last_success")),
            part.get("reason") or _detail(part.get("detail") or {}),
        )
    return table


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _when(value: str | None) -> str:
    if not value:
        return "never"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _detail(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items() if v is not None)
