"""Evidence files addressed by their SHA-256 (the same file is stored once): on the local filesystem, or
in an S3-compatible object store (MinIO, Ceph, AWS S3) for replicas that share no disk."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from api.settings import ApiSettings

logger = logging.getLogger(__name__)


def check_digest(sha256: str) -> str:
    """``sha256`` if it is a lower-case hex SHA-256, else ``ValueError`` (no path or key injection)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return sha256


def shard(sha256: str) -> str:
    """``ab/cd/abcd...``: two folder levels keep any one folder small."""
    check_digest(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class EvidenceStore(Protocol):
    """Where evidence bytes live. Every method takes or returns the file's SHA-256."""

    def put(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store ``data`` (once) and return its SHA-256 (``sha256``: already computed by the caller)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The stored bytes; ``FileNotFoundError`` if not stored."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove a file; a missing one is not an error."""
        ...

    def writable(self) -> bool:
        """Whether a file can be written now (health check)."""
        ...

    def free_mb(self) -> float | None:
        """Free space left for evidence in MB; ``None`` where the store is not bounded by a local disk."""
        ...


class FileEvidenceStore:
    """``root/ab/cd/<sha256>``; writes go through a temporary file, an fsync and an atomic rename.

    Example:
        >>> import tempfile
        >>> store = FileEvidenceStore(Path(tempfile.mkdtemp()))
        >>> digest = store.put(b"jpeg bytes")
        >>> store.get(digest)
        b'jpeg bytes'
    """

    #: How long a reading of the free disk space is reused: every upload asks, and asking the file system
    #: costs more than storing a small event.
    FREE_TTL_S = 1.0

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._free: tuple[float, float] = (float("-inf"), 0.0)  # (when read, MB)

    def path(self, sha256: str) -> Path:
        """Where the file of ``sha256`` lives."""
        return self.root / shard(sha256)

    def put(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store ``data`` (once) and return its SHA-256 (``sha256``: already computed by the caller)."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        except FileNotFoundError:  # the first file of its folder; most writes skip the mkdir calls
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        """The bytes of a stored file.

        Raises:
            FileNotFoundError: not stored.
        """
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> None:
        """Remove a stored file."""
        self.path(sha256).unlink(missing_ok=True)

    def free_mb(self) -> float:
        """Free space on the store's disk, in MB (read at most once per :attr:`FREE_TTL_S`)."""
        read_at, free = self._free
        now = time.monotonic()
        if now - read_at >= self.FREE_TTL_S:
            free = shutil.disk_usage(self.root).free / 2**20
            self._free = (now, free)
        return free

    def writable(self) -> bool:
        """Whether a file can be written now (health check)."""
        try:
            with tempfile.NamedTemporaryFile(dir=self.root):
                return True
        except OSError:
            return False


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

    def free_mb(self) -> None:
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


__all__ = ["EvidenceStore", "FileEvidenceStore", "S3EvidenceStore", "check_digest", "open_store", "shard"]
