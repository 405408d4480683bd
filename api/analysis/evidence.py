"""What every finding of :mod:`api.analysis.findings` carries: its shape, and typical events as evidence."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from api.analysis.scope import DISMISSED, Scope
from api.models import Event


def finding(
    kind: str,
    subject: str,
    label: str,
    site_ids: list[str],
    figures: dict[str, Any],
    evidence: list[dict[str, Any]],
    title: tuple[str, str],
    action: tuple[str, str],
) -> dict[str, Any]:
    """A finding as :func:`api.analysis.service.analyse` returns it (``title`` and ``action``: Chinese,
    English)."""
    return {
        "kind": kind,
        "subject": subject,
        "label": label,
        "site_ids": sorted(site_ids),
        "figures": figures,
        "evidence": evidence,
        "title": {"zh": title[0], "en": title[1]},
        "action": {"zh": action[0], "en": action[1]},
    }


def evidence(
    scope: Scope, *conditions: ColumnElement[bool], dismissed: bool = False, anytime: bool = False
) -> list[dict[str, Any]]:
    """Typical events (the most confident first) that meet ``conditions``, with references to their
    snapshots (``snapshot_url``: the API's own route, which checks the caller's sites).

    Args:
        dismissed: the events dismissed as false alarms (a camera's evidence), instead of violations.
        anytime: started at any time, not only in the period (the events of reopened cases).
    """
    if dismissed:
        where = [Event.review_status == DISMISSED, *scope.sites(), *conditions]
    elif anytime:
        where = [Event.review_status != DISMISSED, *scope.sites(), *conditions]
    else:
        where = [*scope.violations(), *conditions]
    if dismissed:
        where += [Event.started_at >= scope.start, Event.started_at < scope.end]
    rows = scope.session.execute(
        select(
            Event.id,
            Event.site_id,
            Event.camera_id,
            Event.kind,
            Event.started_at,
            Event.snapshot_sha256,
            Event.annotated_sha256,
        )
        .where(*where)
        .order_by(Event.score.desc(), Event.started_at.desc())
        .limit(scope.thresholds.evidence)
    )
    return [
        {
            "event_id": r.id,
            "site_id": r.site_id,
            "camera_id": r.camera_id,
            "kind": r.kind,
            "started_at": r.started_at.isoformat(),
            "snapshot_sha256": r.annotated_sha256 or r.snapshot_sha256,
            "snapshot_url": (
                f"/api/v1/events/{r.id}/snapshot?annotated={'true' if r.annotated_sha256 else 'false'}"
                if r.annotated_sha256 or r.snapshot_sha256
                else None
            ),
        }
        for r in rows
    ]
