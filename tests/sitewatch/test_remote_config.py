"""A worker takes its site's configuration from the central API (``sitewatch worker --from-api``): a real API
under uvicorn on loopback, a real worker on the demo video."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import SiteConfig
from sitewatch.cli import main
from sitewatch.remote_config import RemoteConfigError, check_site_config, fetch_config
from sitewatch.yamlpos import ConfigError
from tests.conftest import ROOT
from tests.sitewatch.test_gallery_sync import Server
from tests.streams.rtsp import free_port

ADMIN = "sw_test-remote-admin-0123456789abcdefghijklm"
DOCUMENT: dict[str, Any] = {
    "cameras": {"gate": {"url": str(ROOT / "configs" / "demo" / "site-demo.mp4"), "loop": True}},
    "rules": {"no_helmet": {"armed": "always"}},
}


@pytest.fixture
def central(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FastAPI, str, str]]:
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=ADMIN),
        dispatch=False,
        config_check=check_site_config,
    )
    with services_of(app).sessions() as session:
        edge = create_key(session, name="edge", role="edge", site_ids=["site-a"])
    monkeypatch.setenv("K", edge)  # the variable the fetched files name for the key
    url = f"http://127.0.0.1:{free_port()}"
    server = Server(app, int(url.rsplit(":", 1)[1]))
    yield app, url, edge
    server.stop()
    services_of(app).engine.dispose()


def _store(url: str, document: dict[str, Any], site: str = "site-a") -> None:
    response = httpx.put(
        f"{url}/api/v1/sites/{site}/config", json=document, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert response.status_code == 200, response.text


def _store_unchecked(app: FastAPI, document: dict[str, Any], site: str = "site-a") -> None:
    """Replace the site's stored document behind the API's check (one stored by an older version)."""
    with services_of(app).sessions() as session:
        row = session.get(SiteConfig, site)
        assert row is not None
        row.document, row.version = document, row.version + 1
        session.commit()


def test_the_worker_watches_the_cameras_the_api_lists_and_reports_to_it(
    central: tuple[FastAPI, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url, edge = central
    _store(url, DOCUMENT)
    monkeypatch.setenv("SITEWATCH_EDGE_KEY", edge)
    folder = tmp_path / "edge"
    args = ["worker", "--from-api", url, "--site", "site-a", "--data-dir", str(folder), "--duration", "4"]
    assert main(args) == 0
    table = capsys.readouterr().out
    processed = re.search(r"^gate\s+\w+\s+[\d.]+\s+(\d+)", table, re.MULTILINE)
    assert processed is not None and int(processed.group(1)) > 0, table
    written = (folder / "site-site-a.yaml").read_text()
    assert edge not in written and "${SITEWATCH_EDGE_KEY}" in written  # the key stays in the environment
    # The worker reported to the API it took its configuration from (no sink was written in the document).
    admin = {"Authorization": f"Bearer {ADMIN}"}
    cameras = httpx.get(f"{url}/api/v1/sites/site-a/cameras", headers=admin).json()
    assert [c["camera_id"] for c in cameras] == ["gate"]


def test_an_unreachable_api_falls_back_to_the_last_good_copy(
    central: tuple[FastAPI, str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, url, edge = central
    _store(url, DOCUMENT)
    common = {"site_id": "site-a", "api_key": edge, "key_env": "K", "folder": tmp_path, "retry_s": 0.01}
    first, path = fetch_config(api_url=url, **common)  # type: ignore[arg-type]
    down = f"http://127.0.0.1:{free_port()}"
    again, same = fetch_config(api_url=down, attempts=2, **common)  # type: ignore[arg-type]
    assert same == path and list(again.cameras) == list(first.cameras) == ["gate"]
    assert "fetched earlier" in caplog.text
    with pytest.raises(RemoteConfigError, match="no earlier copy"):
        fetch_config(api_url=down, attempts=1, **{**common, "folder": tmp_path / "empty"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "stored", "message"),
    [
        ("sw_not-a-key-0123456789abcdefghijklmnopqrst", True, "edge key was refused"),
        (None, False, "no configuration is stored for site site-a"),
    ],
)
def test_a_refused_key_or_a_missing_configuration_is_named(
    central: tuple[FastAPI, str, str], tmp_path: Path, key: str | None, stored: bool, message: str
) -> None:
    _, url, edge = central
    if stored:
        _store(url, DOCUMENT)
    with pytest.raises(RemoteConfigError, match=message):
        fetch_config(api_url=url, site_id="site-a", api_key=key or edge, key_env="K", folder=tmp_path)


def test_a_bad_document_names_the_key_and_line_and_keeps_the_good_copy(
    central: tuple[FastAPI, str, str], tmp_path: Path
) -> None:
    app, url, edge = central
    _store(url, DOCUMENT)
    _, good = fetch_config(api_url=url, site_id="site-a", api_key=edge, key_env="K", folder=tmp_path)
    before = good.read_text()
    bad = {"cameras": {"gate": {"url": ""}}}
    refused = httpx.put(
        f"{url}/api/v1/sites/site-a/config", json=bad, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    # The API answers what the worker would say, in the same file's words.
    assert refused.status_code == 422
    (reason,) = refused.json()["detail"]
    _store_unchecked(app, bad)
    with pytest.raises(ConfigError, match=r"site-site-a\.fetched\.yaml:\d+: cameras\.gate\.url") as info:
        fetch_config(api_url=url, site_id="site-a", api_key=edge, key_env="K", folder=tmp_path)
    assert reason.startswith("site-site-a.yaml:")
    assert str(info.value) == f"{tmp_path}/{reason.replace('site-a.yaml', 'site-a.fetched.yaml')}"
    assert good.read_text() == before


@pytest.mark.parametrize(
    "document",
    [
        # A camera URL that would carry a secret of the edge host to a server of the sender's choosing.
        {"cameras": {"gate": {"url": "http://127.0.0.1:9/${SECRET_OF_EDGE_HOST}/x.mp4"}}},
        # A sink elsewhere, keyed with any variable of the worker's environment.
        {
            **DOCUMENT,
            "sink": {"type": "http", "url": "http://127.0.0.1:9", "api_key": "${SECRET_OF_EDGE_HOST}"},
        },
        # The worker's own key, moved out of the sink it belongs to.
        {"cameras": {"gate": {"url": "http://127.0.0.1:9/${K}/x.mp4"}}},
    ],
)
def test_a_fetched_configuration_reads_nothing_of_the_edge_hosts_environment(
    central: tuple[FastAPI, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    document: dict[str, Any],
) -> None:
    app, url, edge = central
    monkeypatch.setenv("SECRET_OF_EDGE_HOST", "TOPSECRET-aws-key")
    _store(url, DOCUMENT)
    _, good = fetch_config(api_url=url, site_id="site-a", api_key=edge, key_env="K", folder=tmp_path)
    before = good.read_text()
    _store_unchecked(app, document)  # the API refuses it now (tests/api/test_sites.py); an older one did not
    with pytest.raises(RemoteConfigError, match=r"placeholders.*: (cameras\.gate\.url|sink\.api_key)$"):
        fetch_config(api_url=url, site_id="site-a", api_key=edge, key_env="K", folder=tmp_path)
    assert good.read_text() == before
    assert not any("TOPSECRET" in p.read_text() for p in tmp_path.rglob("*.yaml"))


def test_the_copy_kept_is_filled_with_the_workers_key_only(
    central: tuple[FastAPI, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, edge = central
    _store(url, DOCUMENT)
    config, path = fetch_config(api_url=url, site_id="site-a", api_key=edge, key_env="K", folder=tmp_path)
    assert "${K}" in path.read_text() and edge not in path.read_text()  # the key is not written down
    assert config.sink is not None and config.sink.api_key == edge
