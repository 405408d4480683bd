"""What ``/healthz`` reports: whether the database answers, the evidence store can be written, and the disk
has room."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.ops.schemas import Health
from api.storage.interface import EvidenceStore

#: Less free disk than this (MB) is reported as a problem.
LOW_DISK_MB = 100


def health_of(*, sessions: Callable[[], Session], store: EvidenceStore) -> Health:
    """The API's health: ``degraded``, with the problems named, when the database does not answer, evidence
    cannot be written or at most :data:`LOW_DISK_MB` of disk is left."""
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
        database = True
    except Exception:  # any database failure means unhealthy
        database = False
    writable = store.writable()
    free_mb = store.free_mb()
    problems = [
        *([] if database else ["the database does not answer"]),
        *([] if writable else ["evidence cannot be written (is the disk full?)"]),
        *([f"{free_mb:.0f} MB of disk left"] if free_mb is not None and free_mb <= LOW_DISK_MB else []),
    ]
    return Health(
        status="degraded" if problems else "ok",
        database=database,
        storage_writable=writable,
        disk_free_mb=free_mb,
        problems=problems,
    )
