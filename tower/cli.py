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
console = Console(stderr=True, soft_wrap=True)  # messages stay one line: greppable


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
    file_format: Annotated[
        str,
        typer.Option(
            "--format", help="events (NDJSON or JSON events), log (log lines) or x12 (EDI)."
        ),
    ] = "events",
    source: Annotated[
        str | None, typer.Option(help="With --format log: where the lines come from, e.g. erp.s4.")
    ] = None,
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
    elif file_format == "x12":
        params = {"source": source} if source else None
        endpoint = str(httpx.URL(url.rstrip("/") + "/api/v1/edi", params=params))
        send = send_edi_file
    elif file_format != "events":
        console.print(f"[red]--format must be events, log or x12, not {file_format!r}")
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
        with httpx.Client(timeout=120.0) as client, progress:
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
            f"[red]the tower refused a batch ({exc.response.status_code}): {_detail(exc.response)}"
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


# --- the demo estate (simulator/): `tower demo` and `tower simulate` --------------------------


ScenarioOpt = Annotated[
    Path | None,
    typer.Option(help="Scenario YAML (default: the shipped default).", dir_okay=False),
]
SeedOpt = Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")]
BackfillOpt = Annotated[
    float | None, typer.Option(min=0, help="Days of history (default: the scenario's).")
]
SpeedOpt = Annotated[
    float | None, typer.Option(min=0.001, help="Live speed factor (default: the scenario's).")
]


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="DuckDB file for the demo.")] = Path("data/demo.duckdb"),
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    scenario: ScenarioOpt = None,
    seed: SeedOpt = None,
    backfill_days: BackfillOpt = None,
    speed: SpeedOpt = None,
    ground_truth: Annotated[
        Path | None, typer.Option(help="Fault ground truth (default: beside the database).")
    ] = None,
) -> None:
    """Run the tower with a simulated distributor feeding it. Ctrl-C stops both cleanly."""
    import uvicorn

    from simulator import ConfigFileError, SimulatorThread, plan_run
    from tower.app import create_app
    from tower.settings import Settings

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v}
    settings = Settings(db_path=db, **overrides)  # type: ignore[arg-type]
    truth = ground_truth or db.with_name(f"{db.stem}-ground-truth.ndjson")
    try:
        options = plan_run(
            scenario=scenario,
            seed=seed,
            backfill_days=backfill_days,
            speed=speed,
            ground_truth=truth,
        )
    except ConfigFileError as exc:
        console.print(f"[red]{exc}", highlight=False)
        raise typer.Exit(2) from exc
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # A line per request, or per correlator run skipped while the backfill pours in, would
    # drown what the demo has to say. (The app sets "apscheduler" itself; this is its child.)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
        )
    )
    base = f"http://{settings.host}:{settings.port}"
    # The simulator stops as soon as the server begins to shut down, so no post races the
    # lifespan closing the database.
    simulator = SimulatorThread(url=base, options=options, should_stop=lambda: server.should_exit)
    console.print(
        f"[bold]Control Tower demo[/] · scenario [bold]{options.scenario.name}[/], seed "
        f"{options.seed}, {options.backfill.total_seconds() / 86400:g} days of history, then "
        f"live at {options.speed:g}x\n"
        f"  tower        {base}\n"
        f"  dashboards   {base}/ui/   (trace any ID at {base}/ui/trace)\n"
        f"  API docs     {base}/docs\n"
        f"  journeys     {base}/api/v1/journeys   (or: tower trace <any ID> --url {base})\n"
        f"  events       {base}/api/v1/events\n"
        f"  health       {base}/api/v1/health   metrics {base}/metrics\n"
        f"  database     {settings.db_path}\n"
        f"  ground truth {truth}\n"
        "Ctrl-C stops the simulator and the tower.",
        highlight=False,
    )
    simulator.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly
    finally:
        simulator.stop()
        simulator.join(timeout=30)
    if simulator.summary is not None:
        done = simulator.summary
        console.print(
            f"demo stopped: {done.sent:,} events sent ({done.duplicates:,} duplicates, "
            f"{len(done.rejected):,} rejected), {done.faults:,} faults in {truth}"
        )


@app.command()
def simulate(
    url: Annotated[
        str, typer.Option(help="The tower's base URL.", envvar="TOWER_URL")
    ] = "http://127.0.0.1:8000",
    scenario: ScenarioOpt = None,
    seed: SeedOpt = None,
    backfill_days: BackfillOpt = None,
    speed: SpeedOpt = None,
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="After the backfill, go on in real time.")
    ] = True,
    ground_truth: Annotated[Path, typer.Option(help="Fault ground truth file.")] = Path(
        "data/ground-truth.ndjson"
    ),
    out: Annotated[
        Path | None, typer.Option(help="Write the events to this NDJSON file instead of posting.")
    ] = None,
) -> None:
    """Drive a running tower with the demo estate: history first, then live until Ctrl-C."""
    from simulator import (
        ConfigFileError,
        FileEventSink,
        HttpEventSink,
        SimulatorError,
        plan_run,
        run,
        stop_on_interrupt,
    )

    try:
        options = plan_run(
            scenario=scenario,
            seed=seed,
            backfill_days=backfill_days,
            speed=speed,
            live=live,
            ground_truth=ground_truth,
        )
    except ConfigFileError as exc:
        console.print(f"[red]{exc}", highlight=False)
        raise typer.Exit(2) from exc
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sink = FileEventSink(out) if out is not None else HttpEventSink(url)
    try:
        with stop_on_interrupt() as stopped:
            summary = run(options=options, sink=sink, stop=stopped.is_set)
    except SimulatorError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    finally:
        sink.close()
    table = Table(
        title=f"simulated {options.scenario.name} (seed {options.seed})", show_header=False
    )
    table.add_row("events sent", f"{summary.sent:,}")
    table.add_row("accepted", f"{summary.accepted:,}")
    table.add_row("duplicates", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{len(summary.rejected):,}")
    table.add_row("faults (ground truth)", f"{summary.faults:,} in {ground_truth}")
    console.print(table)
    for event_id, reason in summary.rejected[:20]:
        console.print(f"[red]rejected[/] {event_id}: {reason}", highlight=False)
    if summary.rejected:
        raise typer.Exit(1)


# --- service levels (sla/): `tower sla check` ------------------------------------------------

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
    from datetime import UTC, datetime

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


def _detail(response: object) -> str:
    try:
        return str(response.json()["detail"])  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError):
        return str(getattr(response, "text", ""))[:500]


def main() -> None:
    sys.exit(app())
