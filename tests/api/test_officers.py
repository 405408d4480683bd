"""Officers: enrolment from real photos (../shared/datasets/faces, MIT), encrypted embeddings, the edge
gallery recognising a test photo, deletion, and the presence timeline."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.officers.face_models import FACE_MODELS
from detector.face_gallery import Gallery
from detector.faces import FaceAnalyzer
from tests.api.conftest import ADMIN_KEY, Api


@pytest.fixture
def face_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SITEWATCH_FACE_KEY", key)
    return key


def photos(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]


def enroll(
    api: Api, faces: Path, name: str, extra: list[Path] | None = None, who: str = "supervisor"
) -> object:
    files = photos(sorted((faces / "train" / name).iterdir()) + (extra or []))
    return api.client.post(
        "/api/v1/sites/site-a/officers", data={"name": name}, files=files, headers=api.as_(who)
    )


def test_enrolment_keeps_only_encrypted_embeddings_and_the_edge_gallery_recognises(
    api: Api, shared_dir: Path, face_key: str, face_analyzer: FaceAnalyzer
) -> None:
    faces = shared_dir / "datasets" / "faces"
    response = enroll(api, faces, "obama", extra=[faces / "test" / "obama_and_biden.jpg"])
    assert response.status_code == 201, response.text
    officer = response.json()
    assert (
        officer["embeddings"] == 2
        and len(officer["rejected"]) == 1
        and "3 faces found" in officer["rejected"][0]
    )
    with services_of(api.app).engine.connect() as db:
        tokens = [row[0] for row in db.execute(text("SELECT ciphertext FROM officer_embeddings"))]
    assert len(tokens) == 2 and all(
        bytes(t).startswith(b"gAAAAA") for t in tokens
    )  # Fernet tokens, not floats
    assert not list((api.data_dir / "evidence").rglob("*.jpg"))  # the photos were not kept

    assert api.client.get("/api/v1/sites/site-a/gallery", headers=api.as_("supervisor")).status_code == 403
    fetched = api.client.get("/api/v1/sites/site-a/gallery", headers=api.as_("edge")).json()
    assert set(fetched["officers"]) == {"obama"}
    gallery = Gallery(
        threshold=0.42, identities={k: np.array(v, np.float32) for k, v in fetched["officers"].items()}
    )
    test_face = face_analyzer.faces(cv2.imread(str(faces / "test" / "obama1.jpg")))[0]
    assert test_face.embedding is not None and gallery.match(test_face.embedding).name == "obama"
    assert api.client.get("/api/v1/sites/site-a/gallery", headers=api.as_("edge_b")).status_code == 404

    # Disabled officers leave the gallery; deleted ones leave no face data behind.
    api.client.patch(
        f"/api/v1/officers/{officer['id']}", json={"enabled": False}, headers=api.as_("supervisor")
    )
    assert api.client.get("/api/v1/sites/site-a/gallery", headers=api.as_("edge")).json()["officers"] == {}
    assert (
        api.client.delete(f"/api/v1/officers/{officer['id']}", headers=api.as_("supervisor")).status_code
        == 204
    )
    with services_of(api.app).engine.connect() as db:
        assert db.execute(text("SELECT COUNT(*) FROM officer_embeddings")).scalar() == 0
    assert api.client.get("/api/v1/sites/site-a/officers", headers=api.as_("viewer")).json() == []


def test_enrolment_without_a_usable_photo_or_without_the_key_is_refused(
    api: Api, shared_dir: Path, face_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    faces = shared_dir / "datasets" / "faces"
    group = api.client.post(
        "/api/v1/sites/site-a/officers",
        data={"name": "x"},
        files=photos([faces / "test" / "obama_and_biden.jpg"]),
        headers=api.as_("supervisor"),
    )
    assert group.status_code == 422 and "no usable photo" in group.json()["detail"]
    monkeypatch.delenv("SITEWATCH_FACE_KEY")
    (api.data_dir / "face.key").unlink()  # no key in the environment nor in the data folder
    nokey = enroll(api, faces, "biden")
    assert nokey.status_code == 503 and "SITEWATCH_FACE_KEY" in nokey.json()["detail"]
    assert api.client.get("/api/v1/sites/site-a/officers", headers=api.as_("viewer")).json() == []
    assert enroll(api, faces, "biden", who="viewer").status_code == 403


def test_sightings_build_the_presence_timeline(api: Api) -> None:
    for minute, camera in [(0, "gate"), (1, "yard"), (2, "gate"), (30, "gate")]:
        body = {
            "site_id": "site-a",
            "officer": "zhang_wei",
            "camera_id": camera,
            "at": f"2026-11-23T01:{minute:02d}:00+00:00",
        }
        assert (
            api.client.post("/api/v1/ingest/sightings", json=body, headers=api.as_("edge")).status_code == 204
        )
    other = {"site_id": "site-a", "officer": "x", "at": "2026-11-23T01:00:00+00:00"}
    assert (
        api.client.post("/api/v1/ingest/sightings", json=other, headers=api.as_("edge_b")).status_code == 403
    )
    day = api.client.get(
        "/api/v1/sites/site-a/presence",
        params={"day": "2026-11-23", "tz": "Asia/Shanghai"},
        headers=api.as_("viewer"),
    ).json()
    assert [(p["start"][11:16], p["end"][11:16]) for p in day] == [("01:00", "01:02"), ("01:30", "01:30")]
    bad = api.client.get(
        "/api/v1/sites/site-a/presence",
        params={"day": "2026-11-23", "tz": "Mars/Base"},
        headers=api.as_("viewer"),
    )
    assert bad.status_code == 400
    edge_of_time = api.client.get(
        "/api/v1/sites/site-a/presence",
        params={"day": "9999-12-31", "tz": "Asia/Shanghai"},
        headers=api.as_("viewer"),
    )
    assert edge_of_time.status_code == 400  # regression found by the fuzzer: was a 500


@pytest.mark.parametrize("from_env", [False, True], ids=["key-file", "environment"])
def test_enrolment_works_out_of_the_box_with_a_key_file_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, from_env: bool
) -> None:
    env_key = Fernet.generate_key().decode()
    if from_env:
        monkeypatch.setenv("SITEWATCH_FACE_KEY", env_key)
    else:
        monkeypatch.delenv("SITEWATCH_FACE_KEY", raising=False)
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=ADMIN_KEY
    )
    with caplog.at_level(logging.INFO, logger="api.officers.service"):
        app = create_app(settings, dispatch=False)
    key_file = tmp_path / "face.key"
    assert key_file.exists() != from_env
    if not from_env:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert str(key_file) in caplog.text and "back it up" in caplog.text
    services_of(app).get(FACE_MODELS).use(
        SimpleNamespace(
            faces=lambda image: [SimpleNamespace(embedding=np.ones(512, np.float32) / np.sqrt(512))]
        )
    )
    with services_of(app).sessions() as session:
        supervisor = create_key(session, name="s", role="supervisor")
        edge = create_key(session, name="e", role="edge")
    photo = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))[1].tobytes()
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/sites/site-a/officers",
            data={"name": "li"},
            files=[("photos", ("p.jpg", photo, "image/jpeg"))],
            headers={"Authorization": f"Bearer {supervisor}"},
        )
        assert response.status_code == 201, response.text
        gallery = client.get("/api/v1/sites/site-a/gallery", headers={"Authorization": f"Bearer {edge}"})
        assert list(gallery.json()["officers"]) == ["li"]
    with services_of(app).engine.connect() as db:
        token = bytes(db.execute(text("SELECT ciphertext FROM officer_embeddings")).scalar_one())
    key = env_key if from_env else key_file.read_text().strip()
    assert Fernet(key.encode()).decrypt(token)  # encrypted with the key the environment or the file holds
    assert key.encode() not in (tmp_path / "db.sqlite").read_bytes()
    services_of(app).engine.dispose()
