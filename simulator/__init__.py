"""The demo estate: a simulated distributor that drives a real tower through its public API.

Entry points: load_scenario / shipped_scenario (what to run), RunOptions and run (backfill then
live, against any EventSink, spans and log lines to a TelemetrySink), items (the same stream
without sending it), SimulatorThread (the simulator beside a server in one process, for
`tower demo`).
"""

from simulator.runner import (
    RunOptions,
    RunSummary,
    SimulatorError,
    SimulatorThread,
    items,
    plan_run,
    run,
    stop_on_interrupt,
    wait_for_tower,
)
from simulator.scenario import ConfigFileError, Scenario, load_scenario, shipped_scenario
from simulator.sinks import FileEventSink, HttpEventSink, HttpTelemetrySink

__all__ = [
    "ConfigFileError",
    "FileEventSink",
    "HttpEventSink",
    "HttpTelemetrySink",
    "RunOptions",
    "RunSummary",
    "Scenario",
    "SimulatorError",
    "SimulatorThread",
    "items",
    "load_scenario",
    "plan_run",
    "run",
    "shipped_scenario",
    "stop_on_interrupt",
    "wait_for_tower",
]
