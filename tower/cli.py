"""The `tower` command: serve the tower, feed it files."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="Control Tower: observability and transaction tracing for distributors.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


@app.command()
def serve(
    db: Annotated[
        Path | None, typer.Option(help="DuckDB file (default: TOWER_DB_PATH or data/tower.duckdb).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the tower: ingest API, queries and scheduled jobs in one process."""
    import uvicorn

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
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        workers=1,
    )


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
) -> None:
    """Send events from files to a running tower. Exits 1 if any event was rejected."""
    import httpx

    from collector.client import IngestSummary, send_file

    summary = IngestSummary()
    endpoint = url.rstrip("/") + "/api/v1/events"
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        with httpx.Client(timeout=120.0) as client, progress:
            for path in files:
                task = progress.add_task(path.name, total=None)
                send_file(
                    client,
                    endpoint,
                    path,
                    summary,
                    batch_size=batch_size,
                    on_batch=functools.partial(progress.advance, task),
                )
                progress.update(task, total=progress.tasks[task].completed)
    except httpx.HTTPError as exc:
        console.print(f"[red]could not send to {endpoint}: {exc}")
        raise typer.Exit(2) from exc

    table = Table(title="ingest summary", show_header=False)
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


@app.command()
def correlate(
    db: Annotated[Path, typer.Option(help="DuckDB file of a tower that is not running.")] = Path(
        "data/tower.duckdb"
    ),
    models_dir: Annotated[
        Path | None, typer.Option(help="Journey model folder overriding the shipped models.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Events per correlator run.")] = 50_000,
) -> None:
    """Stitch every waiting event into journeys once (a backfill), with progress."""
    from correlator.jobs import pending_events, run_until_caught_up
    from correlator.models import load_models
    from tower.db import Store

    models = load_models(models_dir)
    store = Store(db)
    try:
        waiting = pending_events(store=store)
        progress = Progress(
            TextColumn("[bold]correlating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeElapsedColumn(),
            console=console,
        )
        with progress:
            task = progress.add_task("correlate", total=waiting)
            reports = run_until_caught_up(
                store=store,
                models=models,
                batch_size=batch_size,
                on_progress=lambda r: progress.advance(task, r.events),
            )
        seconds = sum(r.seconds for r in reports)
        events = sum(r.events for r in reports)
        rate = f" ({events / seconds:,.0f} events/s)" if seconds else ""
        console.print(
            f"stitched {events:,} events in {seconds:.1f} s{rate}; "
            f"{sum(r.journeys_created for r in reports):,} journeys created"
        )
    finally:
        store.close()


@app.command()
def trace(
    any_id: Annotated[str, typer.Argument(metavar="ID", help="Any ID, or a search query.")],
    url: Annotated[
        str, typer.Option(help="The tower's base URL.", envvar="TOWER_URL")
    ] = "http://127.0.0.1:8000",
    limit: Annotated[int, typer.Option(min=1, help="Most journeys to print.")] = 5,
) -> None:
    """Print the journeys an ID finds as timelines: stages, hops, anomalies, events."""
    import httpx

    from correlator.render import journey_panel

    out = Console()
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            found = http.get("/api/v1/journeys/search", params={"q": any_id, "limit": limit})
            if found.status_code == 400:
                console.print(f"[red]{found.json()['detail']}")
                raise typer.Exit(2)
            found.raise_for_status()
            items = found.json()["items"]
            if not items:
                console.print(f"no journey found for {any_id!r}")
                raise typer.Exit(1)
            for item in items:
                detail = http.get(f"/api/v1/journeys/{item['journey_id']}")
                detail.raise_for_status()
                out.print(journey_panel(detail.json()))
    except httpx.HTTPError as exc:
        console.print(f"[red]could not reach {url}: {exc}")
        raise typer.Exit(2) from exc


def main() -> None:
    sys.exit(app())
