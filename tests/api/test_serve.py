"""Serving in several processes keeps Nagle's algorithm off (regression: uvicorn's own listener did not)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.ops.serve import listening_socket
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
