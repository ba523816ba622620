"""FastAPI dependencies every router shares: the app's store and clock (set in tower.app)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tower.clock import Clock
from tower.db import Store

__all__ = ["ClockDep", "StoreDep", "get_clock", "get_store"]


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


StoreDep = Annotated[Store, Depends(get_store)]
ClockDep = Annotated[Clock, Depends(get_clock)]
