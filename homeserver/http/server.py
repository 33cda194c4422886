"""The listening ``Server``: one application on one or more addresses (plain or TLS),
with a draining stop. Each accepted connection is a ``connection.HttpProtocol``."""

from __future__ import annotations

import asyncio
import logging
import socket
from ssl import SSLContext

from .app import Application
from .connection import HttpProtocol

log = logging.getLogger(__name__)

_UNWIND_S = 1.0  # on stop, for cancelled handlers to finish


class Server:
    """Listens on ``host:port`` (plain, or TLS with ``ssl``) and serves ``app`` until
    ``stop``. ``listen`` adds more listeners for the same application (the federation
    API over HTTPS next to the client API): the application starts and stops once."""

    def __init__(
        self,
        app: Application,
        host: str,
        port: int,
        *,
        ssl: SSLContext | None = None,
        sock: socket.socket | None = None,
        shutdown_timeout: float = 10.0,
        backlog: int = 1024,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.ssl = ssl
        self.sock = sock
        self.shutdown_timeout = shutdown_timeout
        self.backlog = backlog
        self.loop = asyncio.get_running_loop()
        self._stopped = False
        self.connections: set[HttpProtocol] = set()
        self._server: asyncio.Server | None = None
        self._extra: list[asyncio.Server] = []

    async def _create(
        self, host: str, port: int, tls: SSLContext | None, sock: socket.socket | None
    ) -> asyncio.Server:
        if sock is not None:
            return await self.loop.create_server(
                lambda: HttpProtocol(self), sock=sock, backlog=self.backlog, ssl=tls
            )
        return await self.loop.create_server(
            lambda: HttpProtocol(self),
            host,
            port,
            backlog=self.backlog,
            reuse_address=True,
            ssl=tls,
        )

    async def start(self) -> None:
        await self.app.startup()
        self._server = await self._create(self.host, self.requested_port, self.ssl, self.sock)

    async def listen(
        self,
        host: str,
        port: int,
        *,
        ssl: SSLContext | None = None,
        sock: socket.socket | None = None,
    ) -> int:
        """Serve the application on one more address (after ``start``); returns its port."""
        server = await self._create(host, port, ssl, sock)
        self._extra.append(server)
        return int(server.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self.requested_port
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to ``shutdown_timeout``),
        close every connection, then run the application's shutdown and cleanup.
        Stopping twice is stopping once."""
        if self._stopped:
            return
        self._stopped = True
        deadline = self.loop.time() + self.shutdown_timeout
        if self._server is not None:
            self._server.close()
        for extra in self._extra:
            extra.close()
        closing: list[asyncio.Task[None]] = []
        for connection in list(self.connections):
            connection.stopping = True
            if connection._websocket is not None:
                # Every closing handshake at once (RFC 6455 §7.4.1 1001: going away).
                going_away = connection._websocket.close(code=1001, message=b"server shutting down")
                closing.append(self.loop.create_task(going_away))
            elif not connection.busy:
                connection.close()
        if closing:
            await asyncio.wait(closing, timeout=self.shutdown_timeout)
        await self.app.shutdown()
        while any(c.busy for c in self.connections) and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        unfinished = [task for task in closing if not task.done()]
        for connection in list(self.connections):
            task = connection._task
            if task is not None:
                task.cancel()
                unfinished.append(task)
            connection.close()
        if unfinished:
            # Handlers unwind before the cleanup hooks close what they use.
            await asyncio.wait(unfinished, timeout=_UNWIND_S)
        if self._server is not None:
            await self._server.wait_closed()
        for extra in self._extra:
            await extra.wait_closed()
        await self.app.cleanup()
