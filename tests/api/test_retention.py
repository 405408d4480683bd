"""Retention: with a tiny quota, old evidence goes first, evidence of active cases stays; on local files
and on an S3-compatible store."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from api.core.settings import ApiSettings
from api.events.retention import RetentionPolicy, apply_retention, evidence_bytes
from api.http.services import services_of
from api.models import EvidenceFile
from api.storage.files import FileEvidenceStore
from api.storage.interface import EvidenceStore
from tests.api.builders import jpeg, violation
from tests.api.conftest import Api


def stored(store: EvidenceStore, digest: str) -> bool:
    try:
        store.get(digest)
        return True
    except FileNotFoundError:
        return False


def ingest(api: Api, i: int, age_days: float) -> str:
    data = jpeg(i)
    violation(api, f"evt-ret-{i:04d}", snapshot=data, camera_id=f"cam-{i}")
    digest = hashlib.sha256(data).hexdigest()
    with services_of(api.app).sessions() as session:  # backdate, as if received long ago
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
    store = services_of(api.app).store
    with services_of(api.app).sessions() as session:
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
    with services_of(api.app).sessions() as session:
        apply_retention(
            session, store=services_of(api.app).store, policy=RetentionPolicy(max_age_days=180, min_free_mb=0)
        )
    assert stored(services_of(api.app).store, old)  # its case is open
    api.client.patch(f"/api/v1/cases/{case['id']}", json={"status": "closed"}, headers=api.as_("supervisor"))
    with services_of(api.app).sessions() as session:
        apply_retention(
            session, store=services_of(api.app).store, policy=RetentionPolicy(max_age_days=180, min_free_mb=0)
        )
    assert not stored(services_of(api.app).store, old) and stored(services_of(api.app).store, fresh)


def test_the_api_sweeps_files_no_row_accounts_for_when_it_starts(tmp_path: Path) -> None:
    # Issue 13, finding 7: what a crash left between a file's write and its transaction goes at start.
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.core.settings import ApiSettings
    from api.storage.files import FileEvidenceStore
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
    services_of(app).engine.dispose()


@pytest.mark.parametrize(
    ("shortfall_of_sizes", "expected_present"),
    [
        # 1.5 files' worth short: the two oldest go, not all (one pass deleted every file where 2 MB did)
        (1.5, [False, False, True, True, True, True]),
        # more short than all old evidence holds: all of it goes, never the file stored a moment ago
        (100.0, [False, False, False, False, False, True]),
    ],
)
def test_low_disk_frees_the_shortfall_and_never_young_evidence(
    api: Api, small_disk: Path, shortfall_of_sizes: float, expected_present: list[bool]
) -> None:
    # Regression (issue 13, finding 17): below min_free_mb a pass re-read a free-space figure cached for
    # 1 s, so it deleted all evidence, including files stored a moment earlier, where 2 MB would have done.
    store = FileEvidenceStore(small_disk / "evidence")
    now = datetime.now(UTC)
    digests, sizes = [], []
    with services_of(api.app).sessions() as session:
        for i in range(6):
            data = jpeg(200 + i)
            digests.append(store.put(data))
            sizes.append(len(data))
            age = timedelta(hours=6 - i) if i < 5 else timedelta(seconds=1)  # the last one is new
            session.add(
                EvidenceFile(
                    sha256=digests[-1], media_type="image/jpeg", size=len(data), created_at=now - age
                )
            )
        session.commit()
    store.free_mb()  # a reading cached before the pass must not count
    free = store.free_mb(fresh=True)
    policy = RetentionPolicy(min_free_mb=free + shortfall_of_sizes * sizes[0] / 2**20, min_age_s=600)
    with services_of(api.app).sessions() as session:
        result = apply_retention(session, store=store, policy=policy)
    assert [stored(store, d) for d in digests] == expected_present
    assert result.deleted == expected_present.count(False)


@pytest.mark.parametrize(
    ("env", "attribute", "value"),
    [
        ({"SITEWATCH_MIN_FREE_MB": "2048"}, "min_free_mb", 2048.0),
        ({"SITEWATCH_QUOTA_MB": "100"}, "quota_mb", 100.0),
        ({}, "quota_mb", None),
        ({"SITEWATCH_RETENTION_DAYS": "30"}, "retention_days", 30.0),
        ({"SITEWATCH_MIN_EVIDENCE_AGE_S": "60"}, "min_evidence_age_s", 60.0),
        ({"SITEWATCH_MAX_UPLOAD_MB": "5"}, "max_upload_mb", 5.0),
    ],
)
def test_retention_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], attribute: str, value: object
) -> None:
    for name, setting in env.items():
        monkeypatch.setenv(name, setting)
    assert getattr(ApiSettings.from_env(data_dir=tmp_path), attribute) == value


def test_a_setting_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITEWATCH_MIN_FREE_MB", "lots")
    with pytest.raises(ValueError, match="SITEWATCH_MIN_FREE_MB='lots' is not a number"):
        ApiSettings.from_env(data_dir=tmp_path)
