"""The district map's tile settings (SITEWATCH_MAP_TILES): checked at start, served to signed-in users,
and admitted by the page's Content-Security-Policy (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.access.auth import Role, create_key
from api.app import create_app
from api.core.settings import ApiSettings, tile_template
from api.http.services import services_of
from api.ops.ui import POLICY


@pytest.mark.parametrize(
    "template",
    [
        "https://tiles.example/{z}/{x}/{y}.png",
        "http://10.0.0.5:8080/osm/{z}/{x}/{y}.png",
        "https://{s}.tiles.example/{z}/{x}/{y}.png?key=abc",
        "/tiles/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_template_is_taken_as_it_is(template: str) -> None:
    assert tile_template(template) == template


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("https://tiles.example/{z}/{x}.png", "lacks {y}"),
        ("ftp://tiles.example/{z}/{x}/{y}.png", "neither"),
        ("//tiles.example/{z}/{x}/{y}.png", "neither"),
        ("tiles/{z}/{x}/{y}.png", "neither"),
        ("https://tiles-{s}.example/{z}/{x}/{y}.png", "only {s}. may begin"),
        ("https://tiles.example;script-src/{z}/{x}/{y}.png", "forbidden character"),
    ],
)
def test_a_bad_tile_template_is_refused_saying_why(template: str, says: str) -> None:
    with pytest.raises(ValueError, match="SITEWATCH_MAP_TILES") as caught:
        tile_template(template)
    assert says in str(caught.value)


def test_the_environment_sets_tiles_and_attribution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITEWATCH_MAP_TILES", " https://{s}.tiles.example/{z}/{x}/{y}.png ")
    monkeypatch.setenv("SITEWATCH_MAP_ATTRIBUTION", "© Example Maps")
    settings = ApiSettings.from_env(data_dir=tmp_path)
    assert settings.map_tiles == "https://{s}.tiles.example/{z}/{x}/{y}.png"
    assert settings.map_attribution == "© Example Maps"
    monkeypatch.setenv("SITEWATCH_MAP_TILES", "https://tiles.example/")
    with pytest.raises(ValueError, match="lacks"):
        ApiSettings.from_env(data_dir=tmp_path)


def _client(tmp_path: Path, tiles: str | None) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=tmp_path,
        map_tiles=tiles,
        map_attribution="© Example Maps" if tiles else "",
    )
    app = create_app(settings, dispatch=False)
    roles: tuple[Role, ...] = ("viewer", "supervisor", "edge")
    with services_of(app).sessions() as session:
        keys: dict[str, str] = {
            role: create_key(session, name=role, role=role, site_ids=["site-a"]) for role in roles
        }
    with TestClient(app) as client:
        yield client, keys
    services_of(app).engine.dispose()


@pytest.fixture
def with_tiles(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    yield from _client(tmp_path, "https://{s}.tiles.example/{z}/{x}/{y}.png")


@pytest.fixture
def without_tiles(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    yield from _client(tmp_path, None)


@pytest.mark.parametrize(
    ("who", "status"), [("viewer", 200), ("supervisor", 200), ("edge", 403), (None, 401)]
)
def test_map_settings_are_for_signed_in_readers(
    with_tiles: tuple[TestClient, dict[str, str]], who: str | None, status: int
) -> None:
    client, keys = with_tiles
    headers = {"Authorization": f"Bearer {keys[who]}"} if who else {}
    response = client.get("/api/v1/ui/map", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {
            "tiles": "https://{s}.tiles.example/{z}/{x}/{y}.png",
            "attribution": "© Example Maps",
            "camera_stale_s": 120.0,  # for the legend to say when a camera counts as offline
        }


def test_the_page_admits_images_from_the_tile_server_only_when_there_is_one(
    with_tiles: tuple[TestClient, dict[str, str]], without_tiles: tuple[TestClient, dict[str, str]]
) -> None:
    policy = with_tiles[0].get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' https://*.tiles.example data: blob:" in policy
    assert "script-src 'self';" in policy  # scripts still only from this origin
    client, keys = without_tiles
    assert client.get("/").headers["Content-Security-Policy"] == POLICY
    answer = client.get("/api/v1/ui/map", headers={"Authorization": f"Bearer {keys['viewer']}"}).json()
    assert answer == {"tiles": None, "attribution": "", "camera_stale_s": 120.0}
