"""Dashboards: Dash + Plotly pages over the correlator's reads, mounted in the tower at /ui.

Entry point: Ui (an ASGI app the tower mounts and opens with its store). Pages live in
pages/, reads in queries.py (SQL in sql/), figures in figures.py.
"""

from dashboards.mount import Ui

__all__ = ["Ui"]
