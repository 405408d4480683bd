"""What the live-view tests share: an API served on loopback with a camera at two sites and keys for each
party, and a reader of the MJPEG stream a browser plays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.sites.live import mjpeg_parts
from tests.web.conftest import serving


@dataclass
class LiveApi:
    app: FastAPI
    url: str
    keys: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def live_url(self, site: str = "site-a", camera: str = "cam-1") -> str:
        return f"{self.url}/api/v1/sites/{site}/cameras/{camera}/live"


def live_app(folder: Path, **settings: object) -> tuple[FastAPI, dict[str, str]]:
    """An API with ``cam-1`` reported at site-a and site-b, not yet served, and keys ``edge``, ``edge_b``
    (edge boxes of each site), ``supervisor`` (site-a), ``other_site`` (site-b)."""
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{folder / 'db.sqlite'}", data_dir=folder, **settings),  # type: ignore[arg-type]
        dispatch=False,
    )
    with services_of(app).sessions() as session:
        keys = {
            "edge": create_key(session, name="edge box A", role="edge", site_ids=["site-a"]),
            "edge_b": create_key(session, name="edge box B", role="edge", site_ids=["site-b"]),
            "supervisor": create_key(session, name="supervisor A", role="supervisor", site_ids=["site-a"]),
            "other_site": create_key(session, name="supervisor B", role="supervisor", site_ids=["site-b"]),
        }
    # Without TestClient's lifespan: its end would close what the server started later needs.
    with nullcontext(TestClient(app)) as client:
        for site, key in (("site-a", keys["edge"]), ("site-b", keys["edge_b"])):
            health = [{"site_id": site, "camera_id": "cam-1", "online": True}]
            response = client.post(
                "/api/v1/ingest/health", json=health, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 204, response.text
    return app, keys


@contextmanager
def live_api(folder: Path, **settings: object) -> Iterator[LiveApi]:
    """:func:`live_app` served by uvicorn on loopback."""
    app, keys = live_app(folder, **settings)
    with serving(app) as url:
        yield LiveApi(app, url, keys)


def mjpeg_frames(response: httpx.Response) -> Iterator[tuple[dict[str, str], bytes]]:
    """The parts of an MJPEG response as they arrive: each part's headers (lower-case names) and JPEG."""
    return mjpeg_parts(response.iter_raw())
