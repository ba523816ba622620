"""Shared parts of the `tower` command: the Typer app and the error console."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = [
    "DEFAULT_URL",
    "ApiKeyOption",
    "UrlOption",
    "app",
    "call_api",
    "console",
    "detail",
]

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


UrlOption = Annotated[str, typer.Option(help="The tower's base URL.", envvar="TOWER_URL")]
DEFAULT_URL = "http://127.0.0.1:8000"


def call_api(method: str, url: str, path: str, api_key: str | None, **kwargs: Any) -> Any:
    """One API call; a refusal or an unreachable tower ends the command with its reason."""
    import httpx

    from tower.access.client import auth_headers

    try:
        with httpx.Client(base_url=url, timeout=30, headers=auth_headers(api_key)) as http:
            response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]could not reach {url}: {exc}")
        raise typer.Exit(2) from exc
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}: {detail(response)}")
        raise typer.Exit(1)
    return response.json() if response.content else None
