"""A full disk: uploads are refused with 507 and a reason, and /healthz says so (on a small tmpfs)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from tests.api.builders import JPEG, event, jpeg
from tests.api.conftest import ADMIN_KEY
from tests.waiting import wait_for


def fill(disk: Path) -> None:
    """Write until the disk refuses."""
    # Unbuffered: a buffered file keeps what the full disk refused and raises again when it is closed.
    with (disk / "filler").open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass


@pytest.mark.parametrize(
    "files",
    [
        {"snapshot": JPEG},  # the evidence cannot be written
        {},  # the SQLite database cannot grow
    ],
)
def test_a_full_disk_refuses_uploads_with_507_and_health_says_so(
    small_disk: Path, files: dict[str, bytes]
) -> None:
    # Regression (issue 13, finding 18): a full disk answered 500 with a traceback ("OSError: [Errno 28]",
    # "database or disk is full") while /healthz said storage_writable: true.
    settings = ApiSettings(
        database_url=f"sqlite:///{small_disk / 'db.sqlite'}",
        data_dir=small_disk,
        admin_key=ADMIN_KEY,
        min_free_mb=0,
    )
    app = create_app(settings, dispatch=False)
    with services_of(app).sessions() as session:
        key = create_key(session, name="edge", role="edge", site_ids=["site-a"])
    with TestClient(app) as client:
        assert client.get("/healthz").json()["storage_writable"]
        fill(small_disk)
        parts = {name: (f"{name}.jpg", data, "image/jpeg") for name, data in files.items()}
        body = event(f"evt-full-{len(files)}", evidence={})

        response = client.post(
            "/api/v1/ingest/events",
            data={"event": json.dumps(body)},
            files=parts or None,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 507, response.text
        assert "disk is full" in response.json()["detail"]
        health = client.get("/healthz")
        assert health.status_code == 503 and not health.json()["storage_writable"]
        assert any("disk" in problem for problem in health.json()["problems"])
        (small_disk / "filler").unlink()
        assert client.get("/healthz").json()["storage_writable"]  # (a 4 MiB disk is still low on space)
    services_of(app).engine.dispose()


def test_a_disk_below_its_floor_is_relieved_without_an_upload(small_disk: Path) -> None:
    # Issue 24, item 9: free disk sat below the floor until the next upload started a retention pass.
    settings = ApiSettings(
        database_url=f"sqlite:///{small_disk / 'db.sqlite'}",
        data_dir=small_disk,
        admin_key=ADMIN_KEY,
        min_free_mb=1.0,
        min_evidence_age_s=0,
    )
    app = create_app(settings, dispatch=False)
    with services_of(app).sessions() as session:
        key = create_key(session, name="edge", role="edge", site_ids=["site-a"])
    with TestClient(app) as client:
        for i in range(3):  # old evidence, which retention may delete for the free disk
            data = jpeg(i, (360, 480))
            body = event(f"evt-floor-{i}", evidence={"snapshot_sha256": hashlib.sha256(data).hexdigest()})
            sent = client.post(
                "/api/v1/ingest/events",
                data={"event": json.dumps(body)},
                files={"snapshot": ("snapshot.jpg", data, "image/jpeg")},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert sent.status_code == 201, sent.text
        # Something else takes the disk down to half a megabyte, and no edge box uploads anything.
        free = shutil.disk_usage(small_disk).free
        (small_disk / "filler").write_bytes(b"\0" * (free - 2**19))
        assert shutil.disk_usage(small_disk).free / 2**20 < settings.min_free_mb
        wait_for(
            lambda: shutil.disk_usage(small_disk).free / 2**20 >= settings.min_free_mb,
            timeout=20,
            what="free disk back above its floor",
        )
        assert (
            client.get("/api/v1/events", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200
        )
    services_of(app).engine.dispose()
