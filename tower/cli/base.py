"""Shared parts of the `tower` command: the Typer app and the error console."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["app", "console", "detail"]

app = typer.Typer(
    help="Control Tower: observability and transaction tracing for distributors.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)  # messages stay one line: greppable


def detail(response: object) -> str:
    """The `detail` of a tower error answer, or the start of its body."""
    try:
        return str(response.json()["detail"])  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError):
        return str(getattr(response, "text", ""))[:500]
