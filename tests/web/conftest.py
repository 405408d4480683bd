"""The API with its web UI on loopback, seeded with two sites, and a real headless Chromium driven by
Playwright (Debian's chromium package; Playwright never downloads a browser here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright

from api.access.auth import create_key
from api.access.users import create_user
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from tests.api.builders import edge_upload, event, labelled_jpeg
from tests.conftest import ROOT
from tests.streams.rtsp import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "web"
PASSWORD = "correct horse battery staple"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    app: FastAPI
    url: str
    events: dict[str, list[str]]  # site id -> event ids, newest first


def seed(app: FastAPI, count: int = 6) -> dict[str, list[str]]:
    """Pending events with snapshots on site-a and site-b, ingested as an edge box would."""
    events: dict[str, list[str]] = {"site-a": [], "site-b": []}
    with services_of(app).sessions() as session:
        keys = {s: create_key(session, name=f"edge {s}", role="edge", site_ids=[s]) for s in events}
    now = datetime.now(UTC)
    # Without TestClient's lifespan: its end would close the ingest's group committer, which the server
    # started later on the same app needs for what tests ingest over HTTP.
    with nullcontext(TestClient(app)) as client:
        for site, key in keys.items():
            for i in range(count):
                event_id = f"evt-{site}-{i:03d}"
                started = (now - timedelta(minutes=10 * (count - i))).isoformat()
                body = event(
                    event_id,
                    site=site,
                    kind=("no_helmet", "no_vest", "smoking")[i % 3],
                    camera_id=f"cam-{i % 2}",
                    started_at=started,
                    updated_at=started,
                    people_count=1 + i % 3,
                    score=0.6 + i / 50,
                )
                snapshot = labelled_jpeg(f"{site} {i}", shade=(40 * i) % 255)
                response = client.post(
                    "/api/v1/ingest/events",
                    **edge_upload(body, snapshot),
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert response.status_code == 201, response.text
                events[site].insert(0, event_id)
    with services_of(app).sessions() as session:
        create_user(session, username="anna", password=PASSWORD, role="supervisor", site_ids=["site-a"])
        create_user(session, username="victor", password=PASSWORD, role="viewer", site_ids=["site-a"])
        create_user(session, username="bo", password=PASSWORD, role="supervisor", site_ids=["site-b"])
    return events


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services_of(app).engine.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=None),
        dispatch=False,
    )
    events = seed(app)
    with serving(app) as url:
        yield Site(app, url, events)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package (apt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page: Page, site: Site, user: str) -> None:
    page.goto(site.url + "/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#bar:not([hidden])")


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
