"""Retention: with a tiny quota, old evidence goes first, evidence of active cases stays; on local files
and on an S3-compatible store."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import update

from api.models import EvidenceFile
from api.retention import RetentionPolicy, apply_retention, evidence_bytes
from api.storage import EvidenceStore
from tests.api.conftest import Api
from tests.api.test_api import event, post


def jpeg(seed: int) -> bytes:
    noise = np.random.default_rng(seed).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def stored(store: EvidenceStore, digest: str) -> bool:
    try:
        store.get(digest)
        return True
    except FileNotFoundError:
        return False


def ingest(api: Api, i: int, age_days: float) -> str:
    data = jpeg(i)
    body = event(
        f"evt-ret-{i:04d}",
        camera_id=f"cam-{i}",
        evidence={"snapshot_sha256": hashlib.sha256(data).hexdigest()},
    )
    assert post(api, body, files={"snapshot": data}).status_code == 201
    digest = hashlib.sha256(data).hexdigest()
    with api.app.state.sessions() as session:  # backdate, as if received long ago
        session.execute(
            update(EvidenceFile)
            .where(EvidenceFile.sha256 == digest)
            .values(created_at=datetime.now(UTC) - timedelta(days=age_days))
        )
        session.commit()
    return digest


@pytest.mark.parametrize("evidence", ["files", "s3"], indirect=True)
def test_quota_deletes_oldest_first_and_keeps_evidence_of_active_cases(api: Api) -> None:
    digests = [ingest(api, i, age_days=10 - i) for i in range(6)]  # 0 is the oldest
    case = api.client.post(
        "/api/v1/cases", json={"event_ids": ["evt-ret-0000"]}, headers=api.as_("supervisor")
    )
    assert case.status_code == 201
    store = api.app.state.store
    with api.app.state.sessions() as session:
        sizes = {f.sha256: f.size for f in session.query(EvidenceFile)}
        quota_bytes = sizes[digests[4]] + sizes[digests[5]] + sizes[digests[0]]
        result = apply_retention(
            session, store=store, policy=RetentionPolicy(quota_mb=quota_bytes / 2**20, min_free_mb=0)
        )
        remaining = evidence_bytes(session)
    present = [stored(store, d) for d in digests]
    assert present == [True, False, False, False, True, True]  # 0 kept for its open case, 1-3 oldest gone
    assert result.deleted == 3 and result.kept_for_cases == 1 and remaining <= quota_bytes
    gone = api.client.get("/api/v1/events/evt-ret-0001/snapshot", headers=api.as_("admin"))
    assert gone.status_code == 404 and "no snapshot" in gone.json()["detail"]
    kept = api.client.get("/api/v1/events/evt-ret-0000/snapshot", headers=api.as_("admin"))
    assert kept.status_code == 200


def test_age_limit_and_a_closed_case_no_longer_protects(api: Api) -> None:
    old = ingest(api, 100, age_days=400)
    fresh = ingest(api, 101, age_days=1)
    case = api.client.post(
        "/api/v1/cases", json={"event_ids": ["evt-ret-0100"]}, headers=api.as_("supervisor")
    ).json()
    with api.app.state.sessions() as session:
        apply_retention(
            session, store=api.app.state.store, policy=RetentionPolicy(max_age_days=180, min_free_mb=0)
        )
    assert stored(api.app.state.store, old)  # its case is open
    api.client.patch(f"/api/v1/cases/{case['id']}", json={"status": "closed"}, headers=api.as_("supervisor"))
    with api.app.state.sessions() as session:
        apply_retention(
            session, store=api.app.state.store, policy=RetentionPolicy(max_age_days=180, min_free_mb=0)
        )
    assert not stored(api.app.state.store, old) and stored(api.app.state.store, fresh)


def test_the_api_sweeps_files_no_row_accounts_for_when_it_starts(tmp_path: Path) -> None:
    # Issue 13, finding 7: what a crash left between a file's write and its transaction goes at start.
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import ApiSettings
    from api.storage import FileEvidenceStore
    from tests.api.conftest import ADMIN_KEY
    from tests.waiting import wait_for

    store = FileEvidenceStore(tmp_path / "evidence")
    old, young = store.put(jpeg(1)), store.put(jpeg(2))
    an_hour_ago = time.time() - 3600
    os.utime(store.path(old), (an_hour_ago, an_hour_ago))
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=ADMIN_KEY
    )
    app = create_app(settings, dispatch=False)
    with TestClient(app):
        wait_for(lambda: not store.path(old).exists(), 10, "the old orphan removed")
        assert store.path(young).exists()  # it may be an upload in flight
    app.state.engine.dispose()
