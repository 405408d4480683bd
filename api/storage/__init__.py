"""Evidence files addressed by their SHA-256 (the same file is stored once): on the local filesystem, or
in an S3-compatible object store (MinIO, Ceph, AWS S3) for replicas that share no disk.

One module per store (:mod:`api.storage.files`, :mod:`api.storage.s3`) and one for what they share
(:mod:`api.storage.interface`); :func:`open_store` picks the one the settings name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.storage.files import FileEvidenceStore
from api.storage.interface import EvidenceStore
from api.storage.s3 import S3EvidenceStore

if TYPE_CHECKING:
    from api.core.settings import ApiSettings


def open_store(settings: ApiSettings) -> EvidenceStore:
    """The evidence store the settings name: S3 when a bucket is set, else files under the data folder."""
    if settings.s3_bucket:
        return S3EvidenceStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint,
            prefix=settings.s3_prefix,
            region=settings.s3_region,
        )
    return FileEvidenceStore(settings.data_dir / "evidence")
