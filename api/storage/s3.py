"""Evidence objects in an S3-compatible object store (MinIO, Ceph, AWS S3), for replicas that share no
disk."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from api.storage.interface import Accounted, StagedFile, shard

logger = logging.getLogger(__name__)


class S3EvidenceStore:
    """Objects ``<prefix>ab/cd/<sha256>`` in one bucket of an S3-compatible store.

    Credentials come the usual boto3 way (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` in the environment,
    or an instance role); they are never logged. The object's SHA-256 is sent with each upload, so the store
    itself refuses a body damaged on the way.

    Args:
        bucket: the bucket; created if missing and ``create_bucket`` is set.
        endpoint_url: the store's URL (MinIO: ``http://minio:9000``); ``None`` for AWS.
        prefix: a key prefix, for a bucket shared with other data.
        region: the region name, where the store needs one.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        prefix: str = "",
        region: str | None = None,
        create_bucket: bool = True,
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:  # the s3 extra is optional
            raise RuntimeError("the S3 evidence store needs boto3: pip install 'sitewatch[s3]'") from exc
        self.bucket = bucket
        self.prefix = prefix
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
            ),
        )
        self._errors: Any = self._client.exceptions
        if create_bucket:
            try:
                self._client.head_bucket(Bucket=bucket)
            except self._errors.ClientError:
                logger.info("creating evidence bucket %s", bucket)
                self._client.create_bucket(Bucket=bucket)

    def key(self, sha256: str) -> str:
        """The object key of ``sha256``."""
        return self.prefix + shard(sha256)

    def put(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store ``data`` (once) and return its SHA-256 (``sha256``: already computed by the caller)."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        key = self.key(digest)
        if self._exists(key):
            return digest
        import base64

        self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
        )
        return digest

    def stage(self, data: bytes, *, sha256: str) -> StagedFile:
        """Keep ``data`` to upload when promoted: nothing reaches the bucket for an update not stored."""
        return _StagedObject(self, sha256, data)

    def sweep(self, *, accounted: Accounted, older_than_s: float) -> int:
        """Remove objects older than ``older_than_s`` that the database does not account for."""
        cutoff = time.time() - older_than_s
        removed = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            old = {
                item["Key"].rsplit("/", 1)[-1]: item["Key"]
                for item in page.get("Contents", [])
                if item["LastModified"].timestamp() < cutoff and item["Key"] != self.prefix + ".healthz"
            }
            if not old:
                continue
            known = set(accounted(list(old)))
            for digest, key in old.items():
                if digest not in known:
                    self._client.delete_object(Bucket=self.bucket, Key=key)
                    removed += 1
        if removed:
            logger.warning("removed %d evidence objects that no database row accounted for", removed)
        return removed

    def get(self, sha256: str) -> bytes:
        """The bytes of a stored object; ``FileNotFoundError`` if there is none."""
        try:
            reply = self._client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except self._errors.NoSuchKey:
            raise FileNotFoundError(sha256) from None
        body: bytes = reply["Body"].read()
        return body

    def delete(self, sha256: str) -> None:
        """Remove an object (deleting a missing key succeeds in S3)."""
        self._client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def free_mb(self, *, fresh: bool = False) -> None:
        """An object store has no local disk to fill; the size quota still applies."""
        return None

    def writable(self) -> bool:
        """Whether the bucket takes a write now."""
        try:
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + ".healthz", Body=b"ok")
            return True
        except Exception:  # any failure (network, credentials, permissions) means unhealthy
            logger.warning("evidence bucket %s is not writable", self.bucket, exc_info=True)
            return False

    def _exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
            return True
        except self._errors.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise


class _StagedObject:
    """An object to upload when its update is sure to be stored."""

    def __init__(self, store: S3EvidenceStore, sha256: str, data: bytes) -> None:
        self.store = store
        self.sha256 = sha256
        self.data: bytes | None = data

    def promote(self) -> None:
        if self.data is not None:
            self.store.put(self.data, sha256=self.sha256)
            self.data = None

    def discard(self) -> None:
        self.data = None
