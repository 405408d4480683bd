"""Evidence files on the filesystem, addressed by their SHA-256 (the same file is stored once)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path


class EvidenceStore:
    """``root/ab/cd/<sha256>``; writes go through a temporary file and an atomic rename.

    Example:
        >>> import tempfile
        >>> store = EvidenceStore(Path(tempfile.mkdtemp()))
        >>> digest = store.put(b"jpeg bytes")
        >>> store.get(digest)
        b'jpeg bytes'
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the file of ``sha256`` lives."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
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

    def free_mb(self) -> float:
        """Free space on the store's disk, in MB."""
        return shutil.disk_usage(self.root).free / 2**20

    def writable(self) -> bool:
        """Whether a file can be written now (health check)."""
        try:
            with tempfile.NamedTemporaryFile(dir=self.root):
                return True
        except OSError:
            return False
