"""`tower correlate` and `tower trace`: stitch offline, print a journey."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tower.access.client import auth_headers
from tower.cli.base import ApiKeyOption, app, console
from tower.settings import Settings


@app.command()
def correlate(
    db: Annotated[Path, typer.Option(help="DuckDB file of a tower that is not running.")] = Path(
        "data/tower.duckdb"
    ),
    models_dir: Annotated[
        Path | None, typer.Option(help="Journey model folder overriding the shipped models.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Events per correlator run.")
    ] = Settings.model_fields["correlate_batch"].default,
) -> None:
    """Stitch every waiting event into journeys once (a backfill), with progress."""
    from correlator.jobs import pending_events, run_until_caught_up
    from correlator.models import load_models
    from tower.db import Store
    from tower.exceptions import TowerError

    try:
        models = load_models(models_dir)
        store = Store(db)
    except TowerError as exc:  # a bad model file, or the database is locked by a running tower
        console.print(f"[red]{exc.detail}")
        raise typer.Exit(2) from exc
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
    api_key: ApiKeyOption = None,
) -> None:
    """Print the journeys an ID finds as timelines: stages, hops, anomalies, events."""
    import httpx

    from correlator.render import journey_panel

    out = Console()
    try:
        with httpx.Client(base_url=url, timeout=30, headers=auth_headers(api_key)) as http:
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
