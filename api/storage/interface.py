"""What every evidence store offers (:class:`EvidenceStore`, :class:`StagedFile`), and the helpers the stores
and their callers share: content addresses checked and sharded, a full disk recognised."""

from __future__ import annotations

import errno
from collections.abc import Callable, Collection
from typing import Protocol


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
