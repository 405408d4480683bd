"""Evidence retention: by age, by a size quota and by free disk, oldest first, never evidence of an
active case."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.cases.service import ACTIVE
from api.core.settings import ApiSettings
from api.http.services import Slot
from api.models import Case, CaseEvent, Event, EvidenceFile
from api.storage.interface import EvidenceStore

logger = logging.getLogger(__name__)
HASH_COLUMNS = (Event.snapshot_sha256, Event.annotated_sha256, Event.clip_sha256)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Attributes:
    max_age_days: evidence older than this goes (unless its case is active).
    quota_mb: total evidence above this goes, oldest first; ``None``: no quota.
    min_free_mb: keep at least this much disk free, deleting oldest evidence first, no more than makes up
        the shortfall.
    min_age_s: evidence younger than this is never deleted for the quota or the free disk (it may still
        be under review or waiting for its case).
    """

    max_age_days: float = 180.0
    quota_mb: float | None = None
    min_free_mb: float = 500.0
    min_age_s: float = 3600.0


def retention_policy(settings: ApiSettings) -> RetentionPolicy:
    """The evidence retention of these settings."""
    return RetentionPolicy(
        max_age_days=settings.retention_days,
        quota_mb=settings.quota_mb,
        min_free_mb=settings.min_free_mb,
        min_age_s=settings.min_evidence_age_s,
    )


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What a pass deleted and what it had to keep."""

    deleted: int
    freed_bytes: int
    kept_for_cases: int


def protected_hashes(session: Session) -> set[str]:
    """Evidence of events that belong to an active (not closed) case."""
    rows = session.execute(
        select(*HASH_COLUMNS)
        .join(CaseEvent, CaseEvent.event_id == Event.id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.status.in_(ACTIVE))
    )
    return {digest for row in rows for digest in row if digest}


def apply_retention(session: Session, *, store: EvidenceStore, policy: RetentionPolicy) -> RetentionResult:
    """Delete evidence past its age, then the oldest (but not younger than ``min_age_s``) until under quota
    and enough disk is free: the shortfall of free disk is measured once, at the start of the pass, and the
    sizes of the files deleted are counted against it."""
    keep = protected_hashes(session)
    files = list(session.scalars(select(EvidenceFile).order_by(EvidenceFile.created_at, EvidenceFile.sha256)))
    total = sum(f.size for f in files)
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=policy.max_age_days)
    youngest = now - timedelta(seconds=policy.min_age_s)
    quota = None if policy.quota_mb is None else policy.quota_mb * 2**20
    free = store.free_mb(fresh=True)
    shortfall = 0.0 if free is None else max(0.0, (policy.min_free_mb - free) * 2**20)
    deleted, freed, kept = 0, 0, 0

    for file in files:
        old_enough = file.created_at < youngest
        over = (quota is not None and total - freed > quota) or freed < shortfall
        if not (file.created_at < cutoff or (old_enough and over)):
            continue
        if file.sha256 in keep:
            kept += 1
            continue
        store.delete(file.sha256)
        for column in HASH_COLUMNS:
            session.execute(update(Event).where(column == file.sha256).values({column.key: None}))
        session.delete(file)
        deleted += 1
        freed += file.size
    session.commit()
    if deleted:
        logger.info(
            "retention deleted %d evidence files (%.1f MB); kept %d of active cases",
            deleted,
            freed / 2**20,
            kept,
        )
    return RetentionResult(deleted=deleted, freed_bytes=freed, kept_for_cases=kept)


class Throttle:
    """Runs the retention passes uploads ask for when the disk runs low: one at a time, and at most one per
    ``interval_s`` (a pass reads every evidence row; each upload asking would run one per upload)."""

    def __init__(self, interval_s: float = 5.0) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._last = float("-inf")

    def run(self, work: Callable[[], object]) -> bool:
        """Run ``work`` unless a pass is running or ran less than ``interval_s`` ago; whether it ran."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if time.monotonic() - self._last < self.interval_s:
                return False
            self._last = time.monotonic()
            work()
            return True
        finally:
            self._lock.release()


def sweep_orphans(session: Session, *, store: EvidenceStore, min_age_s: float) -> int:
    """Remove stored files that no ``evidence_files`` row accounts for (a crash between a file's write and
    its transaction leaves them), once older than ``min_age_s`` so that uploads in flight are safe; the
    number removed."""

    def accounted(digests: list[str]) -> set[str]:
        return set(session.scalars(select(EvidenceFile.sha256).where(EvidenceFile.sha256.in_(digests))))

    removed = store.sweep(accounted=accounted, older_than_s=min_age_s)
    session.rollback()  # a read-only transaction: end it
    return removed


def evidence_bytes(session: Session) -> int:
    """Total size of stored evidence."""
    from sqlalchemy import func

    return int(session.scalar(select(func.coalesce(func.sum(EvidenceFile.size), 0))) or 0)


__all__ = [
    "RetentionPolicy",
    "RetentionResult",
    "Throttle",
    "apply_retention",
    "evidence_bytes",
    "sweep_orphans",
]


#: The retention passes a low disk asks for, one at a time.
LOW_DISK: Slot[Throttle] = Slot("the low-disk retention throttle")
