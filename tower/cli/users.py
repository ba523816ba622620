"""`tower users create|list|disable`: who may sign in to the dashboards (admin key)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tower.cli.base import DEFAULT_URL, ApiKeyOption, UrlOption, app, call_api, console

users_app = typer.Typer(
    help="Dashboard users and their roles (viewer, operator, admin). Needs an admin key.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="The name to sign in with.")],
    role: Annotated[str, typer.Option(help="viewer, operator (ack, silence) or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Create a user, or reset an existing one's role and password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    body = {"username": username, "role": role, "password": password}
    call_api("POST", url, "/api/v1/users", api_key, json=body)
    console.print(f"user {username} can sign in at {url}/login as {role}")


@users_app.command("list")
def list_users(url: UrlOption = DEFAULT_URL, api_key: ApiKeyOption = None) -> None:
    """Every user, their role, and whether they are disabled."""
    table = Table("user", "role", "created", "disabled")
    for row in call_api("GET", url, "/api/v1/users", api_key):
        table.add_row(
            row["username"], row["role"], row["created_at"][:19], (row["disabled_at"] or "")[:19]
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Disable a user: their open sessions end at once."""
    call_api("DELETE", url, f"/api/v1/users/{username}", api_key)
    console.print(f"disabled user {username}")
