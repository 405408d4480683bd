"""Evidence files addressed by their SHA-256 (the same file is stored once): on the local filesystem, or
in an S3-compatible object store (MinIO, Ceph, AWS S3) for replicas that share no disk."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from api.settings import ApiSettings

logger = logging.getLogger(__name__)


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (of the evidence or of a SQLite database) is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == "53100":  # PostgreSQL's disk_full
        return True
    return "database or disk is full" in str(exc)


def check_digest(sha256: str) -> str:
    """``sha256`` if it is a lower-case hex SHA-256, else ``ValueError`` (no path or key injection)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return sha256


def shard(sha256: str) -> str:
    """``ab/cd/abcd...``: two folder levels keep any one folder small."""
    check_digest(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


#: Given some stored files' SHA-256, those the database accounts for (has an ``evidence_files`` row of).
Accounted = Callable[[list[str]], Collection[str]]


class StagedFile(Protocol):
    """A file written but not yet in place: :meth:`promote` puts it where the store serves it from (just
    before the transaction that records it commits), :meth:`discard` drops it (its update was not stored).
    Both may be called more than once; the second of either does nothing."""

    sha256: str

    def promote(self) -> None:
        """Put the file in place (or, if the same file is stored already, mark it as in use now)."""
        ...

    def discard(self) -> None:
        """Drop the file unless it was promoted."""
        ...


class EvidenceStore(Protocol):
    """Where evidence bytes live. Every method takes or returns the file's SHA-256."""

    def stage(self, data: bytes, *, sha256: str) -> StagedFile:
        """Write ``data`` where nothing serves it yet (the slow part of storing it, safe to run in
        parallel), to be promoted once its update is sure to be stored, or discarded."""
        ...

    def sweep(self, *, accounted: Accounted, older_than_s: float) -> int:
        """Remove files older than ``older_than_s`` that the database does not account for (left by a
        crash between a file's write and its transaction); the number removed."""
        ...

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

    def free_mb(self, *, fresh: bool = False) -> float | None:
        """Free space left for evidence in MB; ``None`` where the store is not bounded by a local disk.
        ``fresh``: read now, not a recent reading (what a retention pass measures its shortfall by)."""
        ...


#: The name prefix of a file being written or staged.
INCOMING = ".incoming-"


class _StagedLocal:
    """A staged local file: ``tmp`` beside its place, or ``None`` when the same file was stored already."""

    def __init__(self, store: FileEvidenceStore, sha256: str, data: bytes, tmp: Path | None) -> None:
        self.store = store
        self.sha256 = sha256
        self.data = data
        self.tmp = tmp

    def promote(self) -> None:
        target = self.store.path(self.sha256)
        if self.tmp is not None:
            os.replace(self.tmp, target)
            self.tmp = None
            return
        try:
            os.utime(target)  # in use now: the orphan sweep leaves a recently touched file alone
        except FileNotFoundError:  # deleted since it was staged (retention): store it again
            self.store.put(self.data, sha256=self.sha256)

    def discard(self) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


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
        tmp = self._write_incoming(target, data)
        try:
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return digest

    def stage(self, data: bytes, *, sha256: str) -> StagedFile:
        """Write ``data`` to a temporary file beside its place (flushed to disk); nothing if it is stored."""
        target = self.path(sha256)
        tmp = None if target.exists() else self._write_incoming(target, data)
        return _StagedLocal(self, sha256, data, tmp)

    def _write_incoming(self, target: Path, data: bytes) -> Path:
        """``data`` in a new ``.incoming-`` file in ``target``'s folder, flushed to disk."""
        try:
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=INCOMING)
        except FileNotFoundError:  # the first file of its folder; most writes skip the mkdir calls
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=INCOMING)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def sweep(self, *, accounted: Accounted, older_than_s: float) -> int:
        """Remove ``.incoming-`` files and files without an ``evidence_files`` row, older than
        ``older_than_s`` (by modification time: a promotion refreshes it)."""
        cutoff = time.time() - older_than_s
        removed = 0
        candidates: list[Path] = []
        for path in self._files():
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            if path.name.startswith(INCOMING):
                path.unlink(missing_ok=True)
                removed += 1
            else:
                candidates.append(path)
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            known = set(accounted([path.name for path in chunk]))
            for path in chunk:
                if path.name in known:
                    continue
                try:  # looked at again: an upload of the same file may have just promoted it
                    if path.stat().st_mtime >= cutoff:
                        continue
                except FileNotFoundError:
                    continue
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            logger.warning("removed %d evidence files that no database row accounted for", removed)
        return removed

    def _files(self) -> Iterator[Path]:
        """Every file under ``root/ab/cd/``."""
        for first in os.scandir(self.root):
            if not (first.is_dir() and len(first.name) == 2):
                continue
            for second in os.scandir(first.path):
                if second.is_dir():
                    for entry in os.scandir(second.path):
                        if entry.is_file(follow_symlinks=False):
                            yield Path(entry.path)

    def get(self, sha256: str) -> bytes:
        """The bytes of a stored file.

        Raises:
            FileNotFoundError: not stored.
        """
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> None:
        """Remove a stored file."""
        self.path(sha256).unlink(missing_ok=True)

    def free_mb(self, *, fresh: bool = False) -> float:
        """Free space on the store's disk, in MB (read at most once per :attr:`FREE_TTL_S` unless
        ``fresh``)."""
        read_at, free = self._free
        now = time.monotonic()
        if fresh or now - read_at >= self.FREE_TTL_S:
            free = shutil.disk_usage(self.root).free / 2**20
            self._free = (now, free)
        return free

    def writable(self) -> bool:
        """Whether a file can be written now (health check): a few KB written and flushed, as an upload
        would be (an empty file can still be made on a full disk)."""
        try:
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=INCOMING) as fh:
                fh.write(b"\0" * 8192)
                fh.flush()
                os.fsync(fh.fileno())
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


__all__ = [
    "Accounted",
    "EvidenceStore",
    "FileEvidenceStore",
    "S3EvidenceStore",
    "StagedFile",
    "check_digest",
    "disk_full",
    "open_store",
    "shard",
]
