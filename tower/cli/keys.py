"""`tower keys create|list|revoke`: manage API keys through a running tower (admin key)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tower.cli.base import DEFAULT_URL, ApiKeyOption, UrlOption, app, call_api, console

keys_app = typer.Typer(
    help="API keys with scopes (ingest, read, admin). Needs an admin key (TOWER_API_KEY).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. wms-dc-east.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", "-s", help="ingest, read or admin; repeat for several."),
    ],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Create a key and print it. It is shown only this once: only its hash is stored."""
    made = call_api("POST", url, "/api/v1/keys", api_key, json={"name": name, "scopes": scope})
    console.print(
        f"created key {made['key_id']} ({made['name']}, {', '.join(made['scopes'])}); "
        "store it now, it is not shown again:"
    )
    typer.echo(made["key"])  # alone on stdout, so `KEY=$(tower keys create ...)` works


@keys_app.command("list")
def list_keys(url: UrlOption = DEFAULT_URL, api_key: ApiKeyOption = None) -> None:
    """Every key, active and revoked, with its scopes and when it was last used."""
    rows = call_api("GET", url, "/api/v1/keys", api_key)
    table = Table("key id", "name", "scopes", "created", "by", "last used", "revoked")
    for row in rows:
        table.add_row(
            row["key_id"],
            row["name"],
            ", ".join(row["scopes"]),
            row["created_at"][:19],
            row["created_by"],
            (row["last_used_at"] or "never")[:19],
            (row["revoked_at"] or "")[:19],
        )
    # Piped into grep or a file, rows stay whole instead of shrinking to 80 columns.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id `tower keys list` shows.")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Revoke a key: the tower refuses it from the next request on."""
    call_api("DELETE", url, f"/api/v1/keys/{key_id}", api_key)
    console.print(f"revoked key {key_id}")
