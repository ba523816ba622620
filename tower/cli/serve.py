"""`tower serve` and `tower ingest`: run the tower, feed it files."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tower.access.client import auth_headers
from tower.cli.base import ApiKeyOption, app, console, detail


@app.command()
def serve(
    db: Annotated[
        Path | None, typer.Option(help="DuckDB file (default: TOWER_DB_PATH or data/tower.duckdb).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the tower: ingest API, queries and scheduled jobs in one process."""
    from tower import listeners
    from tower.app import create_app
    from tower.settings import Settings

    overrides = {k: v for k, v in {"db_path": db, "host": host, "port": port}.items() if v}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    console.print(
        f"Control Tower on http://{settings.host}:{settings.port}  "
        f"(API docs at /docs, database {settings.db_path})"
    )
    if settings.otlp_port is not None and settings.otlp_port != settings.port:
        console.print(f"OTLP/HTTP also on http://{settings.host}:{settings.otlp_port}/v1/")
    listeners.serve(create_app(settings), settings)


@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="NDJSON or JSON files; .gz is fine.", exists=True, dir_okay=False, readable=True
        ),
    ],
    url: Annotated[
        str, typer.Option(help="The tower's base URL.", envvar="TOWER_URL")
    ] = "http://127.0.0.1:8000",
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Events per request.")] = 5000,
    file_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="events (NDJSON or JSON events), log (log lines), x12 or edifact (EDI).",
        ),
    ] = "events",
    source: Annotated[
        str | None, typer.Option(help="With --format log: where the lines come from, e.g. erp.s4.")
    ] = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Send events (or, with --format log, log lines) from files to a running tower.

    Exits 1 if any event was rejected, 2 if a file is unreadable or the tower unreachable,
    3 if the tower refused a whole batch (the reason is printed).
    """
    import httpx

    from collector.client import (
        IngestSummary,
        UnreadableFile,
        send_edi_file,
        send_file,
        send_log_file,
    )

    summary = IngestSummary()
    endpoint = url.rstrip("/") + "/api/v1/events"
    send = send_file
    if file_format == "log":
        if not source:
            console.print("[red]--format log needs --source (e.g. --source erp.s4)")
            raise typer.Exit(2)
        endpoint = str(httpx.URL(url.rstrip("/") + "/api/v1/logs", params={"source": source}))
        send = send_log_file
    elif file_format in ("x12", "edifact"):  # one endpoint; it tells the two apart
        params = {"source": source} if source else None
        endpoint = str(httpx.URL(url.rstrip("/") + "/api/v1/edi", params=params))
        send = send_edi_file
    elif file_format != "events":
        console.print(f"[red]--format must be events, log, x12 or edifact, not {file_format!r}")
        raise typer.Exit(2)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        with httpx.Client(timeout=120.0, headers=auth_headers(api_key)) as client, progress:
            for path in files:
                task = progress.add_task(path.name, total=None)
                send(
                    client,
                    endpoint,
                    path,
                    summary,
                    batch_size=batch_size,
                    on_batch=functools.partial(progress.advance, task),
                )
                progress.update(task, total=progress.tasks[task].completed)
    except UnreadableFile as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    except httpx.HTTPStatusError as exc:
        console.print(
            f"[red]the tower refused a batch ({exc.response.status_code}): {detail(exc.response)}"
        )
        raise typer.Exit(3) from exc
    except httpx.HTTPError as exc:
        console.print(f"[red]could not send to {endpoint}: {exc}")
        raise typer.Exit(2) from exc

    table = Table(title="ingest summary", show_header=False)
    if file_format == "log":
        table.add_row("log records", str(summary.records))
    table.add_row("accepted", str(summary.accepted))
    table.add_row("duplicates", str(summary.duplicates))
    table.add_row("rejected", str(len(summary.rejected)))
    if summary.retries:
        table.add_row("retries (tower busy)", str(summary.retries))
    console.print(table)
    for where, reason in summary.rejected[:50]:
        console.print(f"[red]rejected[/] {where}: {reason}", highlight=False, soft_wrap=True)
    if len(summary.rejected) > 50:
        console.print(f"... and {len(summary.rejected) - 50} more (GET /api/v1/rejects)")
    if summary.rejected:
        raise typer.Exit(1)
