"""What one analysis looks at (:class:`Scope`) and when a pattern becomes a finding (:class:`Thresholds`):
shared by the counting (:mod:`api.analysis.service`), the findings (:mod:`api.analysis.findings`) and their
evidence (:mod:`api.analysis.evidence`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.core.kinds import VIOLATIONS
from api.models import Event

#: The review status of an event a supervisor dismissed (the verdict ``false_alarm``, see api.events.service).
DISMISSED = "false_alarm"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a pattern becomes a finding.

    Attributes:
        company_projects: a company recurs with violations on at least this many of its projects ...
        project_factor: ... each with at least this many times the violations of the median project ...
        project_min: ... and at least this many violations.
        rise_factor: a project rises when its last full week has at least this many times the week before ...
        rise_min: ... and at least this many violations (and more than chance explains, see
            :func:`api.analysis.findings.rising_projects`).
        reopen_min: a site's cases reopened after closure at least this many times in the period.
        false_share: a camera's share of dismissed events among its reviewed ones at least this ...
        false_min: ... over at least this many reviewed events.
        evidence: typical events shown per finding.
        limit: findings of each kind at most (the strongest first).
    """

    company_projects: int = 2
    project_factor: float = 2.0
    project_min: int = 5
    rise_factor: float = 1.5
    rise_min: int = 20
    reopen_min: int = 1
    false_share: float = 0.5
    false_min: int = 20
    evidence: int = 3
    limit: int = 20


@dataclass(slots=True)
class Scope:
    """What one analysis looks at, and the counts the findings share."""

    session: Session
    principal: Principal
    start: datetime
    end: datetime
    zone: ZoneInfo
    site_id: str | None
    thresholds: Thresholds
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # by site id
    by_site: Counter[str] = field(default_factory=Counter)  # violations
    cameras: list[dict[str, Any]] = field(default_factory=list)

    def sites(self, column: Any = Event.site_id) -> list[ColumnElement[bool]]:
        """The conditions that keep a query on the caller's sites (and the one asked for)."""
        conditions: list[ColumnElement[bool]] = []
        if self.site_id is not None:
            conditions.append(column == self.site_id)
        if self.principal.site_ids:
            conditions.append(column.in_(self.principal.site_ids))
        return conditions

    def violations(self, start: datetime | None = None, end: datetime | None = None) -> list[Any]:
        """The conditions of a violation in the scope, started in ``[start, end)`` (default: the period)."""
        return [
            Event.started_at >= (start or self.start),
            Event.started_at < (end or self.end),
            Event.kind.in_(VIOLATIONS),
            Event.review_status != DISMISSED,
            *self.sites(),
        ]

    def label(self, site_id: str) -> str:
        """The project's name on ``site_id``, else the site id."""
        project = self.projects.get(site_id)
        return str(project["name"]) if project else site_id


@dataclass(frozen=True)
class AskedPeriod:
    """A request's period, checked: ``[start, end)``, hours and weeks in ``tz``, one site or every site the
    caller sees, and the findings' thresholds."""

    start: datetime
    end: datetime
    tz: str
    site_id: str | None
    thresholds: Thresholds
