"""Shared parts of the `tower` command: the Typer app and the error console."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

__all__ = ["ApiKeyOption", "app", "console", "detail"]

app = typer.Typer(
    help="Control Tower: observability and transaction tracing for distributors.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)  # messages stay one line: greppable

ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        help="An API key with the scope the command needs (docs/security.md).",
        envvar="TOWER_API_KEY",
        show_envvar=True,
    ),
]


def detail(response: object) -> str:
    """The `detail` of a tower error answer, or the start of its body."""
    try:
        return str(response.json()["detail"])  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError):
        return str(getattr(response, "text", ""))[:500]
