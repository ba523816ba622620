"""Serving the tower: one uvicorn server, one app, on the tower's port and the OTLP port.

With `otlp_port` set, the same server also listens there (4318 by OpenTelemetry convention)
and answers only the OTLP/HTTP routes (/v1/traces, /v1/logs, /v1/metrics). One process, one
app, one lifespan: the OTLP port shares the store, the writer and the scheduler.
"""

from __future__ import annotations

import gc
import socket
import sys

import uvicorn
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import STARTUP_FAILURE

from tower.settings import Settings

__all__ = ["OtlpPortOnly", "bind", "serve", "tune_garbage_collector"]

OTLP_PREFIX = "/v1/"


class OtlpPortOnly:
    """ASGI wrapper: requests that arrive on `otlp_port` reach only the OTLP routes; 404 else."""

    def __init__(self, app: ASGIApp, *, otlp_port: int) -> None:
        self.app = app
        self.otlp_port = otlp_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            local = scope.get("server") or (None, None)
            if local[1] == self.otlp_port and not scope["path"].startswith(OTLP_PREFIX):
                answer = JSONResponse(
                    {
                        "error": "not_found",
                        "detail": f"port {self.otlp_port} serves only OTLP/HTTP: "
                        "POST /v1/traces, /v1/logs, /v1/metrics",
                    },
                    status_code=404,
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def serve(app: ASGIApp, settings: Settings) -> None:
    """Run the app until SIGINT/SIGTERM on settings.port and, when set, settings.otlp_port."""
    otlp_port = settings.otlp_port if settings.otlp_port != settings.port else None
    served = app if otlp_port is None else OtlpPortOnly(app, otlp_port=otlp_port)
    config = uvicorn.Config(
        served, host=settings.host, port=settings.port, log_level=settings.log_level
    )
    sockets = [bind(config)]
    if otlp_port is not None:
        sockets.append(bind(replace_port(config, otlp_port)))
    server = uvicorn.Server(config)
    tune_garbage_collector()
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly
    finally:
        for sock in sockets:
            sock.close()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def tune_garbage_collector() -> None:
    """Keep Python's collector out of the ingest path's tail latency.

    Validating a batch of 5,000 events allocates ~100,000 short-lived objects: at the default
    thresholds (700, 10, 10) dozens of collections a request, and now and then a full one that
    walks every object the tower imported (FastAPI, Dash, pyarrow, OpenTelemetry). In process,
    the validation of a batch took p50/p99 54/166 ms; with what exists at start frozen (out of
    every collection) and young collections 70 times rarer, 48/67 ms. Garbage cycles are
    still collected, later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def bind(config: uvicorn.Config) -> socket.socket:
    """The config's listening socket, made so that every connection has Nagle's algorithm off.

    uvicorn binds with `socket.socket(family)`, whose protocol number is 0, and asyncio turns
    on TCP_NODELAY only for sockets that say IPPROTO_TCP. Without it, uvicorn's two writes per
    answer (the headers, then the body) wait for the client's delayed ACK: measured, every
    ingest answer reached its client 40 ms after it was written, a third of its latency.
    """
    sock = config.bind_socket()
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def replace_port(config: uvicorn.Config, port: int) -> uvicorn.Config:
    """A config that only binds: same host, another port."""
    return uvicorn.Config(config.app, host=config.host, port=port, log_config=None)
