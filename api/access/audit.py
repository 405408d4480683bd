"""The audit log: who did what to which record, written with the change itself."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.schemas import AuditPublic
from api.models import AuditEntry


def audit(
    session: Session, *, actor: str, action: str, target: str, details: dict[str, object] | None = None
) -> None:
    """Record an action in the audit log (committed with the caller's transaction)."""
    session.add(
        AuditEntry(at=datetime.now(UTC), actor=actor, action=action, target=target, details=details or {})
    )


def recent(session: Session, *, limit: int) -> list[AuditPublic]:
    """The newest ``limit`` audit entries, of every site, newest first."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditPublic.model_validate(r) for r in rows]
