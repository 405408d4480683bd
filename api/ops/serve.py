"""Serving the API in one or several processes."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

#: Seconds a client has to send a request's headers, on a new connection or after a response.
HEADER_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_S = 5
#: The most bytes of a request's line and headers.
MAX_HEADER_BYTES = 32 * 1024
#: Seconds a stopping server waits for requests still running (a live view lasts up to 10 minutes, an
#: edge box's long poll about half a minute) before it cancels them.
GRACEFUL_SHUTDOWN_S = 10


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers do not arrive in time.

    uvicorn times out an idle keep-alive connection, but not one that sends nothing after connecting, nor
    one that trickles its headers a byte at a time: each held a connection (and a file descriptor) for
    ever. The body's own pace is watched by :class:`api.http.guards.RequestGuard`.
    """

    header_timeout_s = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def handle_events(self) -> None:
        """Stop the clock once a request's headers are in."""
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:
            self._disarm()

    def on_response_complete(self) -> None:
        """Start the clock again for the next request on this connection."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    header_timeout_s: float = HEADER_TIMEOUT_S,
    graceful_shutdown_s: int = GRACEFUL_SHUTDOWN_S,
    **more: Any,
) -> uvicorn.Config:
    """uvicorn's configuration for the API: HTTP/1.1 through :class:`HeaderTimeoutH11`, short keep-alive,
    bounded headers, and a bounded wait for running requests when it stops (without one, an open live view
    held a stop for up to ``SITEWATCH_LIVE_MAX_S``)."""
    protocol: type[HeaderTimeoutH11] = (
        HeaderTimeoutH11  # by name: ``--workers`` pickles the configuration for its processes
    )
    if header_timeout_s != HEADER_TIMEOUT_S:  # tests only: a class of its own cannot be pickled
        protocol = type("HeaderTimeoutH11", (HeaderTimeoutH11,), {"header_timeout_s": header_timeout_s})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        log_level="warning",
        timeout_graceful_shutdown=graceful_shutdown_s,
        **more,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP listener whose accepted connections get ``TCP_NODELAY``.

    uvicorn's own ``Config.bind_socket`` leaves ``proto`` at 0, and asyncio only disables Nagle's
    algorithm on sockets that report ``IPPROTO_TCP``; with ``--workers`` every keep-alive response then
    waits ~40 ms for a delayed ACK (uvicorn issue #3149, measured here: 3 ms → 48 ms per request).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(
    app: FastAPI, *, host: str, port: int, workers: int = 1, factory: str = "api.app:app_from_env"
) -> None:
    """Serve ``app`` in this process, or, with ``workers > 1``, the app that ``factory`` (``module:function``,
    by default :func:`api.app.app_from_env`) builds from the environment's settings in each of that many
    processes sharing one listening socket."""
    if workers == 1:
        uvicorn.Server(server_config(app, host=host, port=port)).run()
        return
    config = server_config(factory, factory=True, host=host, port=port, workers=workers)
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()
