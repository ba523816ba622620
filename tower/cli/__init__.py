"""The `tower` command. Each module registers its commands on the one Typer app."""

# isort: skip_file
# The import order is the order of `tower --help`: running the tower first, then its journeys,
# service levels and the demo estate.
from __future__ import annotations

import sys

from tower.cli.base import app
from tower.cli import serve, journeys, sla, demo, status, keys, users, backup

__all__ = ["app", "main"]

# imported for their @app.command registrations
_COMMANDS = (serve, journeys, sla, demo, status, keys, users, backup)


def main() -> None:
    sys.exit(app())
