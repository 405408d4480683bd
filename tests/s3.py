"""A real S3-compatible HTTP server for tests: moto's standalone server on loopback.

MinIO would be the production choice, but neither its binary nor a container can be fetched here; moto's
server speaks the same S3 REST protocol over HTTP, so boto3 talks to it exactly as it would to MinIO.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.streams.rtsp import free_port
from tests.waiting import wait_for

ACCESS_KEY = "sitewatch-test"
SECRET_KEY = "sitewatch-test-secret"


class S3Server:
    """``moto_server`` on a free loopback port, stopped on ``close``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        binary = Path(sys.executable).with_name("moto_server")
        self._process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._up, timeout=30, what="the S3 server to answer")

    def _up(self) -> bool:
        try:
            return httpx.get(self.url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.close()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """Credentials in the environment, where boto3 looks for them in production too."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    return s3_server
