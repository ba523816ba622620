"""`tower backup`: a consistent copy of a running tower's database (admin key)."""

from __future__ import annotations

from typing import Annotated

import typer

from tower.cli.base import DEFAULT_URL, ApiKeyOption, UrlOption, app, call_api, console


@app.command()
def backup(
    name: Annotated[
        str | None, typer.Option(help="File name in the backup folder (default: a timestamp).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Copy the running tower's database into its backup folder; prints the file."""
    made = call_api("POST", url, "/api/v1/backups", api_key, json={"name": name})
    console.print(f"backup of {made['bytes'] / 1e6:,.1f} MB written in {made['seconds']:.1f} s:")
    typer.echo(made["path"])
