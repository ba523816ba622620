"""`tower sla check`: evaluate the service levels once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tower.cli.base import app, console

sla_app = typer.Typer(help="Service levels: check SLAs and SLOs.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")


@sla_app.command("check")
def sla_check(
    db: Annotated[Path, typer.Option(help="DuckDB file of a tower that is not running.")] = Path(
        "data/tower.duckdb"
    ),
    at: Annotated[
        str | None, typer.Option(help="Evaluate as of this time (ISO 8601; default: now).")
    ] = None,
    sla_file: Annotated[
        Path | None, typer.Option(help="SLA definitions (default: the shipped ones).")
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option(help="Journey model folder overriding the shipped models.")
    ] = None,
) -> None:
    """Evaluate every SLA and SLO once and print the breaches; exit 1 when anything breaches."""

    from correlator.models import load_models
    from sla.jobs import evaluate_once, stages_of
    from sla.models import load_slas
    from tower.db import Store
    from tower.exceptions import TowerError

    try:
        now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError as exc:
        console.print(f"[red]--at {at!r} is not an ISO 8601 time")
        raise typer.Exit(2) from exc
    if now.tzinfo is None:
        console.print(f"[red]--at {at!r} needs a time zone, e.g. {at}Z")
        raise typer.Exit(2)
    try:
        stages = stages_of(load_models(models_dir))
        definitions = load_slas(sla_file, stages=stages)
        store = Store(db)
    except TowerError as exc:
        console.print(f"[red]{exc.detail}", highlight=False)
        raise typer.Exit(2) from exc
    try:
        evaluation = evaluate_once(store=store, definitions=definitions, stages=stages, now=now)
    finally:
        store.close()
    out = Console()
    table = Table(title=f"SLA check at {now.isoformat()}")
    for column in ("SLA", "kind", "severity", "breach", "link"):
        table.add_column(column, overflow="fold")
    for result in evaluation.results:
        for breach in result.breaches:
            table.add_row(
                breach.name, breach.kind, breach.severity, breach.summary, breach.link or ""
            )
    skipped = [r for r in evaluation.results if r.skipped]
    ok = len(evaluation.results) - len(skipped) - len({b.name for b in evaluation.breaches})
    if evaluation.breaches:
        out.print(table)
    for result in skipped:
        console.print(f"skipped {result.name}: {result.skipped}", highlight=False)
    console.print(
        f"{len(evaluation.breaches)} breaches, {ok} SLAs/SLOs met, {len(skipped)} skipped",
        highlight=False,
    )
    if evaluation.breaches:
        raise typer.Exit(1)
