"""An API on a fresh SQLite database in a temporary folder, with keys for each role."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy import event as sa_event

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from sitewatch.remote_config import check_site_config
from tests.pg import PostgresServer, postgres  # noqa: F401 - the fixture
from tests.s3 import S3Server, s3_env, s3_server  # noqa: F401 - the fixtures

ADMIN_KEY = "sw_test-admin-key-0123456789abcdefghijklmnop"


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    database_url: str
    keys: dict[str, str]
    data_dir: Path

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each API test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> dict[str, str]:
    """Where the API keeps evidence: local files unless a test asks for ``s3`` (indirect parameter)."""
    if getattr(request, "param", "files") == "files":
        return {}
    server: S3Server = request.getfixturevalue("s3_env")
    return {"s3_bucket": f"evidence-{uuid.uuid4().hex[:12]}", "s3_endpoint": server.url}


@pytest.fixture
def api(tmp_path: Path, database_url: str, evidence: dict[str, str]) -> Iterator[Api]:
    settings = ApiSettings(database_url=database_url, data_dir=tmp_path, admin_key=ADMIN_KEY, **evidence)
    app = create_app(settings, config_check=check_site_config)
    keys = {"admin": ADMIN_KEY}
    with services_of(app).sessions() as session:
        keys["edge"] = create_key(session, name="edge box A", role="edge", site_ids=["site-a"])
        keys["edge_b"] = create_key(session, name="edge box B", role="edge", site_ids=["site-b"])
        keys["supervisor"] = create_key(session, name="supervisor A", role="supervisor", site_ids=["site-a"])
        keys["viewer"] = create_key(session, name="viewer", role="viewer")
        keys["other_site"] = create_key(session, name="supervisor B", role="supervisor", site_ids=["site-b"])
    with TestClient(app) as client:
        yield Api(app, client, database_url, keys, tmp_path)
    services_of(app).engine.dispose()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for the test (needs root and mount rights; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


#: The API's background threads (api.ops.jobs, the outbox dispatcher, the group commit): they query the
#: engine on their own schedule, so a count of what one request costs leaves them out.
BACKGROUND_THREADS = frozenset({"dispatcher", "case-sweeps", "retention", "silent-events", "group-commit"})


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block, except those of the API's background
    threads (counting theirs made query-count tests fail whenever a sweep ran during a request)."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        if threading.current_thread().name not in BACKGROUND_THREADS:
            seen.append(str(args[2]))

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
