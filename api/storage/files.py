"""Evidence files on the local filesystem, under ``ab/cd/<sha256>``."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from api.storage.interface import Accounted, StagedFile, shard

logger = logging.getLogger(__name__)


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
