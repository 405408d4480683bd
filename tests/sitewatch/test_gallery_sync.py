"""An edge box takes its officer gallery from the central API and reports sightings back, across an API
outage: a real API under uvicorn on loopback, officers enrolled from real photos."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.officers.face_models import FACE_MODELS
from detector.face_gallery import Gallery
from detector.faces import FaceAnalyzer
from sitewatch.gallery_sync import OfficerSync, api_fetch
from streams.sinks import SIGHTINGS_PATH, json_poster
from tests.streams.rtsp import free_port
from tests.waiting import wait_for

ADMIN = "sw_test-sync-admin-0123456789abcdefghijklmn"


class Server:
    def __init__(self, app: FastAPI, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started, 20, "the API")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def central(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FastAPI, str, str]]:
    monkeypatch.setenv("SITEWATCH_FACE_KEY", Fernet.generate_key().decode())
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=ADMIN),
        dispatch=False,
    )
    with services_of(app).sessions() as session:
        edge = create_key(session, name="edge", role="edge", site_ids=["site-a"])
    yield app, f"http://127.0.0.1:{free_port()}", edge
    services_of(app).engine.dispose()


def test_gallery_and_sightings_travel_between_edge_and_api(
    central: tuple[FastAPI, str, str], shared_dir: Path, face_analyzer: FaceAnalyzer
) -> None:
    app, url, edge = central
    admin = {"Authorization": f"Bearer {ADMIN}"}
    port = int(url.rsplit(":", 1)[1])
    server = Server(app, port)
    # The fixture's loaded models, rather than loading them again.
    services_of(app).get(FACE_MODELS).use(face_analyzer)
    photos = sorted((shared_dir / "datasets" / "faces" / "train" / "obama").iterdir())
    files = [("photos", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
    enrolled = httpx.post(
        f"{url}/api/v1/sites/site-a/officers", data={"name": "obama"}, files=files, headers=admin, timeout=60
    )
    assert enrolled.status_code == 201, enrolled.text

    fetch, send = api_fetch(url, edge, "site-a"), json_poster(url, edge, SIGHTINGS_PATH)
    sync = OfficerSync("site-a", Gallery(), fetch, send, refresh_s=0.5, retry_s=0.2)
    sync.start()
    try:
        assert set(sync.gallery.identities) == {"obama"}
        probe = face_analyzer.faces(
            cv2.imread(str(shared_dir / "datasets" / "faces" / "test" / "obama1.jpg"))
        )
        assert sync.gallery.match(probe[0].embedding).name == "obama"  # the fetched embeddings recognise

        # Fixed times of one UTC day (regression: "now + 10 min" crossed midnight in a run at 23:55 UTC).
        noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        day = noon.date().isoformat()
        sync.sighting(noon.timestamp(), "obama", "gate")

        def timeline() -> list[dict[str, object]]:
            answer = httpx.get(f"{url}/api/v1/sites/site-a/presence", params={"day": day}, headers=admin)
            return list(answer.json()) if answer.status_code == 200 else []

        wait_for(lambda: timeline(), 10, "the sighting in the presence timeline")

        server.stop()  # the API goes away; a sighting waits, and is delivered once it is back
        sync.sighting(noon.timestamp() + 600, "obama", "yard")  # past the 2-minute gap: a new interval
        time.sleep(1.0)
        server = Server(app, port)
        wait_for(lambda: any(s["camera_id"] == "yard" for s in timeline()), 20, "the delayed sighting")
        assert sync.dropped == 0 and sync.sent == 2

        officer = enrolled.json()["id"]
        assert httpx.delete(f"{url}/api/v1/officers/{officer}", headers=admin).status_code == 204
        wait_for(lambda: not sync.gallery.identities, 10, "the deleted officer to leave the edge gallery")
    finally:
        sync.stop()
        server.stop()
