"""`tower demo` and `tower simulate`: the demo estate (simulator/)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tower.access.client import API_KEY_ENV
from tower.cli.base import ApiKeyOption, app, console
from tower.settings import Settings

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
    keys = _demo_keys(settings) if settings.auth_required else {}
    if keys:
        # The simulator's sinks (this process) send the ingest key, as any producer would.
        os.environ[API_KEY_ENV] = keys["ingest"]
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
        + _keys_help(keys, base, settings.db_path)
        + "Ctrl-C stops the simulator and the tower.",
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


def _demo_keys(settings: Settings) -> dict[str, str]:
    """The demo's ingest, read and admin keys and its dashboard admin: kept beside its database,
    made on first start."""
    import secrets

    from tower.access.keys import KeyStore, Scope
    from tower.access.users import Role, UserStore
    from tower.db import Store
    from tower.secrets import installation_secret

    path = _keys_path(settings.db_path)
    store = Store(settings.db_path)
    try:
        keys = KeyStore(store)
        users = UserStore(store, session_key=installation_secret(store, "session_key"))
        if path.exists():
            kept: dict[str, str] = json.loads(path.read_text())
            if all(keys.authenticate(kept.get(scope, "")) for scope in Scope) and users.sign_in(
                kept.get("ui_user", ""), kept.get("ui_password", "")
            ):
                return kept
        made = {
            str(scope): keys.create(f"demo-{scope}", [scope], created_by="tower demo").key
            for scope in Scope
        }
        made |= {"ui_user": "demo", "ui_password": secrets.token_urlsafe(12)}
        users.upsert(made["ui_user"], Role.ADMIN, made["ui_password"])
    finally:
        store.close()
    path.write_text(json.dumps(made, indent=2) + "\n")
    path.chmod(0o600)
    return made


def _keys_path(db: Path) -> Path:
    return db.with_name(f"{db.stem}-keys.json")


def _keys_help(keys: dict[str, str], base: str, db: Path) -> str:
    if not keys:
        return "  API keys     off (TOWER_AUTH_REQUIRED=false)\n"
    return (
        f"  sign in      {base}/login as {keys['ui_user']} / {keys['ui_password']}\n"
        f"  API keys     in {_keys_path(db)} (ingest, read, admin); for example\n"
        f"               export TOWER_API_KEY={keys['read']}\n"
        f'               curl -H "Authorization: Bearer $TOWER_API_KEY" {base}/api/v1/journeys\n'
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
    api_key: ApiKeyOption = None,
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
    if api_key:
        # Every sink of the run (events, spans, log lines, queue samples) reads it from there.
        os.environ[API_KEY_ENV] = api_key
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
