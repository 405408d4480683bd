"""Serving: in several processes Nagle's algorithm stays off (regression: uvicorn's own listener did
not), and a stop does not wait for a live view."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.ops.serve import listening_socket, server_config
from tests.api.live import live_app
from tests.streams.rtsp import free_port
from tests.waiting import wait_for


def test_accepted_connections_get_tcp_nodelay() -> None:
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        listener = listening_socket("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    asyncio.run(main())
    assert seen and seen[0] != 0


def test_api_serves_from_several_processes(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SITEWATCH_ADMIN_KEY": "sw_test-serve-0123456789abcdefghijklmnop"}
    command = [sys.executable, "-m", "sitewatch.cli", "api", "--port", str(port), "--data-dir", str(tmp_path)]
    server = subprocess.Popen([*command, "--workers", "2"], env=env, stdout=subprocess.DEVNULL)
    pids: set[str] = set()
    try:

        def answered() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answered, timeout=60, what="the API on two processes")
        headers = {"Authorization": f"Bearer {env['SITEWATCH_ADMIN_KEY']}"}
        me = httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/me", headers=headers, timeout=5)
        assert me.status_code == 200
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        if children.exists():
            pids = set(children.read_text().split())
    finally:
        server.terminate()
        server.wait(timeout=30)
    if pids:  # Linux: the supervisor runs one child per worker (plus none other)
        assert len(pids) >= 2


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_a_bad_worker_count_is_refused(workers: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sitewatch.cli", "api", "--workers", workers], capture_output=True, text=True
    )
    assert result.returncode == 2 and "--workers" in result.stderr


def test_a_stopping_api_does_not_wait_for_an_open_live_view(tmp_path: Path) -> None:
    """Regression: a live view lasts up to ``live_max_s`` and held a graceful stop that long."""
    app, keys = live_app(tmp_path, live_max_s=300)
    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, graceful_shutdown_s=1))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    wait_for(lambda: server.started, timeout=20, what="the API")
    opened = threading.Event()

    def watch() -> None:
        url = f"http://127.0.0.1:{port}/api/v1/sites/site-a/cameras/cam-1/live"
        headers = {"Authorization": f"Bearer {keys['supervisor']}"}
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("GET", url, headers=headers, timeout=None) as answer,
        ):
            assert answer.status_code == 200
            opened.set()
            for _ in answer.iter_raw():
                pass

    viewer = threading.Thread(target=watch, daemon=True)
    viewer.start()
    assert opened.wait(10), "the live view did not open"
    started = time.monotonic()
    server.should_exit = True
    serving.join(timeout=30)
    assert not serving.is_alive(), "the API still waits for the live view"
    assert time.monotonic() - started < 15
    viewer.join(timeout=10)
    assert not viewer.is_alive(), "the viewer's stream did not end with the API"
