"""The evidence stores keep one copy per content, refuse bad digests and say when they cannot write."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from api.storage.files import FileEvidenceStore
from api.storage.interface import EvidenceStore
from api.storage.s3 import S3EvidenceStore
from tests.s3 import S3Server


@pytest.fixture(params=["files", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "files":
        return FileEvidenceStore(tmp_path / "evidence")
    server: S3Server = request.getfixturevalue("s3_env")
    return S3EvidenceStore(f"test-{uuid.uuid4().hex[:12]}", endpoint_url=server.url, prefix="evidence/")


def test_put_is_content_addressed_and_idempotent(store: EvidenceStore) -> None:
    data = b"\xff\xd8 a snapshot " + uuid.uuid4().bytes
    first = store.put(data)
    assert first == hashlib.sha256(data).hexdigest()
    assert store.put(data) == first
    assert store.get(first) == data
    store.delete(first)
    with pytest.raises(FileNotFoundError):
        store.get(first)
    store.delete(first)  # deleting twice is not an error


@pytest.mark.parametrize("digest", ["../../etc/passwd", "A" * 64, "ab" * 31, "0" * 63 + "/"])
def test_anything_but_a_sha256_is_refused(store: EvidenceStore, digest: str) -> None:
    with pytest.raises(ValueError, match="not a sha256"):
        store.get(digest)


def test_health_of_each_store(store: EvidenceStore) -> None:
    assert store.writable()
    free = store.free_mb()
    assert free is None if isinstance(store, S3EvidenceStore) else free is not None and free > 0


def test_s3_objects_live_under_the_prefix(s3_env: S3Server) -> None:
    import boto3

    bucket = f"test-{uuid.uuid4().hex[:12]}"
    store = S3EvidenceStore(bucket, endpoint_url=s3_env.url, prefix="site-evidence/")
    digest = store.put(b"clip bytes")
    client = boto3.client("s3", endpoint_url=s3_env.url, region_name="us-east-1")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"site-evidence/{digest[:2]}/{digest[2:4]}/{digest}"]


def test_an_unreachable_store_is_unhealthy_not_a_crash(s3_env: S3Server) -> None:
    store = S3EvidenceStore("nowhere", endpoint_url="http://127.0.0.1:9", create_bucket=False)
    assert not store.writable()


def test_the_sweep_removes_only_old_files_no_row_accounts_for(store: EvidenceStore) -> None:
    # Issue 13, finding 7: files a crash leaves between their write and their transaction are found and
    # removed, once old enough that no upload in flight can still need them.
    kept = store.put(b"\xff\xd8 accounted " + uuid.uuid4().bytes)
    orphan = store.put(b"\xff\xd8 orphan " + uuid.uuid4().bytes)
    data = b"\xff\xd8 staged " + uuid.uuid4().bytes
    staged = store.stage(data, sha256=hashlib.sha256(data).hexdigest())  # a crash before its promotion
    assert store.sweep(accounted=lambda digests: {kept} & set(digests), older_than_s=3600) == 0
    removed = store.sweep(accounted=lambda digests: {kept} & set(digests), older_than_s=-60)
    assert removed == (2 if isinstance(store, FileEvidenceStore) else 1)  # an object is staged in memory
    assert store.get(kept)
    with pytest.raises(FileNotFoundError):
        store.get(orphan)
    staged.discard()
    if isinstance(store, FileEvidenceStore):
        assert sorted(p.name for p in store.root.rglob("*") if p.is_file()) == [kept]
