"""Every route needs a principal unless :data:`api.app.OPEN_ROUTES` names it (issue 25): the API's routers
are mounted under one prefix whose dependency finds the caller, so a route that forgets to declare one is
still authenticated, and an app with a route left open by other means refuses to start."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

import api.app as app_module
from api.access.deps import routes_without_principal
from api.app import OPEN_ROUTES, create_app
from api.core.settings import ApiSettings
from api.http.services import services_of


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("open-routes")
    app = create_app(ApiSettings(database_url=f"sqlite:///{folder / 'db.sqlite'}", data_dir=folder))
    yield app
    services_of(app).engine.dispose()


def test_only_the_named_routes_answer_without_a_principal(app: FastAPI) -> None:
    assert set(routes_without_principal(app)) == OPEN_ROUTES


def test_every_other_route_refuses_a_request_without_credentials(app: FastAPI) -> None:
    client = TestClient(app)
    checked, answered = 0, {}
    for route in iter_route_contexts(app.routes):
        if route.name in OPEN_ROUTES:
            continue
        path = re.sub(r"\{[^}]+\}", "1", str(route.path))
        for method in sorted(route.methods or ()):
            checked += 1
            status = client.request(method, path).status_code
            if status != 401:
                answered[f"{method} {route.path}"] = status
    assert checked > 50, "the walk found too few routes: it is broken"
    assert not answered, f"answered without credentials: {answered}"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/healthz", None, 200),
        ("GET", "/ui/kinds.js", None, 200),
        ("GET", "/", None, 200),
        ("GET", "/openapi.json", None, 200),
        # Open, yet not without a check of its own: a wrong password, a bad signature.
        ("POST", "/api/v1/auth/login", {"username": "nobody", "password": "wrong password"}, 401),
        ("GET", f"/api/v1/evidence/{'0' * 64}?expires=1&sig={'0' * 64}", None, 403),
    ],
)
def test_the_open_routes_answer_without_a_key(
    app: FastAPI, method: str, path: str, body: dict[str, str] | None, status: int
) -> None:
    response = TestClient(app).request(method, path, json=body)
    assert response.status_code == status, response.text
    if status == 401:  # the log-in's own refusal, not the missing key's
        assert response.json()["detail"] != "a valid API key is required"


def test_an_app_with_a_route_left_open_does_not_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(app_module, "OPEN_ROUTES", OPEN_ROUTES - {"health"})
    with pytest.raises(RuntimeError, match="OPEN_ROUTES does not name: health"):
        create_app(ApiSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path))
