"""The sockets `tower serve` listens on hand out connections with Nagle's algorithm off."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from tests.servers import free_port
from tower.listeners import bind


def test_connections_accepted_on_the_tower_socket_send_small_writes_at_once() -> None:
    # uvicorn writes an answer's headers and body separately; with Nagle on, the body waits
    # for the client's delayed ACK (40 ms on Linux). asyncio only disables Nagle on sockets
    # that declare IPPROTO_TCP, which uvicorn's own bind_socket() does not.
    config = uvicorn.Config(app="unused:app", host="127.0.0.1", port=free_port(), log_config=None)
    listening = bind(config)
    assert connection_nodelay(listening) is True

    plain = uvicorn.Config(app="unused:app", host="127.0.0.1", port=free_port(), log_config=None)
    assert connection_nodelay(plain.bind_socket()) is False  # why bind() exists


def connection_nodelay(listening: socket.socket) -> bool:
    """TCP_NODELAY on the server side of one connection accepted through asyncio."""

    async def accept_one() -> bool:
        seen: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        try:
            host, port = listening.getsockname()[:2]
            _, writer = await asyncio.open_connection(host, port)
            result = await asyncio.wait_for(seen, 10)
            writer.close()
            return result
        finally:
            server.close()

    # A thread of its own: an earlier test may leave this thread's event loop marked running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, accept_one()).result(timeout=30)
