"""The package's SQL (exceptions/sql/*.sql, loaded once) and its write lane."""

from __future__ import annotations

from tower.db import load_queries

__all__ = ["LANE", "SQL"]

SQL = load_queries("exceptions")
LANE = "exceptions"  # every write of the package commits through this one connection
