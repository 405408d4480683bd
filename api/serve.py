"""Serving the API in one or several processes."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess


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


def serve(app: FastAPI, *, host: str, port: int, workers: int = 1) -> None:
    """Serve ``app`` in this process, or, with ``workers > 1``, the app of the environment's settings
    (``api.app.app_from_env``) in that many processes sharing one listening socket."""
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    config = uvicorn.Config(
        "api.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning"
    )
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()
