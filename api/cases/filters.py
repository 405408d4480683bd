"""The filters of the case board, shared by the list, its summary and its export (issue 21): one set of SQL
conditions, so that the counts, the pages and the exported rows always agree."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy import case as when

from api.access.auth import Principal
from api.core.errors import BadRequestError
from api.models import Case, Project

#: A SELECT over ``cases``, whatever its columns.
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")
CaseState = Literal["active", "closed", "all"]
CaseSort = Literal["newest", "oldest", "deadline", "overdue-first"]


@dataclass(frozen=True)
class CaseFilters:
    """What a supervisor narrows the cases to. Empty fields filter nothing.

    ``contractor`` is a part of the project's company (施工单位), any case; ``q`` a part of the project's
    name, address or company, of the case system's number, or the case's own number (``123`` or ``#123``);
    ``street`` and ``community`` match exactly; ``since``/``until`` bound the opening time (``until``
    excluded); ``state`` ``active`` keeps the cases not closed, ``closed`` the closed ones.
    """

    site_id: str | None = None
    camera_id: str | None = None
    project_id: int | None = None
    contractor: str | None = None
    street: str | None = None
    community: str | None = None
    kind: str | None = None
    status: tuple[str, ...] = ()
    state: CaseState = "all"
    overdue: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None

    def described(self) -> dict[str, Any]:
        """The filters set, as plain values (for the audit log of an export)."""
        return {
            k: (v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if v not in (None, (), "all")
        }


def check_text(*texts: str | None) -> None:
    """Refuse a text with a NUL character (PostgreSQL cannot compare it).

    Raises:
        BadRequestError: one has.
    """
    for text in texts:
        if text is not None and "\x00" in text:
            raise BadRequestError("text must not contain NUL characters")


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Cases not closed whose deadline is before ``now``."""
    return and_(Case.status != "closed", Case.deadline_at < now)


def conditions(filters: CaseFilters, *, principal: Principal, now: datetime) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``filters`` within ``principal``'s sites (over ``cases`` outer-joined to
    ``projects`` by site: see :func:`filtered`)."""
    f = filters
    check_text(f.contractor, f.street, f.community, f.q)
    found: list[ColumnElement[bool]] = []
    if principal.site_ids:
        found.append(Case.site_id.in_(principal.site_ids))
    for column, value in (
        (Case.site_id, f.site_id),
        (Case.camera_id, f.camera_id),
        (Case.kind, f.kind),
        (Project.id, f.project_id),
    ):
        if value is not None:
            found.append(column == value)
    for text_column, text in ((Project.street, f.street), (Project.community, f.community)):
        if text:
            found.append(text_column == text)
    if f.contractor:
        found.append(Project.company.icontains(f.contractor, autoescape=True))
    if f.status:
        found.append(Case.status.in_(f.status))
    if f.state == "active":
        found.append(Case.status != "closed")
    elif f.state == "closed":
        found.append(Case.status == "closed")
    if f.overdue is not None:
        late = overdue_clause(now)
        found.append(late if f.overdue else ~late)
    if f.since is not None:
        found.append(Case.created_at >= f.since)
    if f.until is not None:
        found.append(Case.created_at < f.until)
    if f.q and f.q.strip():
        found.append(text_match(f.q.strip()))
    return found


def text_match(q: str) -> ColumnElement[bool]:
    """A part of the project's name, address or company, the case system's number, or the case's number."""
    parts: list[ColumnElement[bool]] = [
        column.icontains(q, autoescape=True)
        for column in (Project.name, Project.address, Project.company, Case.external_id)
    ]
    number = q.removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) < 10:
        parts.append(Case.id == int(number))
    return or_(*parts)


def filtered(query: Q, filters: CaseFilters, *, principal: Principal, now: datetime) -> Q:
    """``query`` (over ``cases``) joined to the cases' projects and narrowed by ``filters``."""
    return query.outerjoin(Project, Project.site_id == Case.site_id).where(
        *conditions(filters, principal=principal, now=now)
    )


def ordering(sort: CaseSort) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY of ``sort``; ``overdue-first`` puts the cases not closed first, the most overdue (the
    earliest deadline) at the top, then the closed ones, the latest closed first. Ties by number."""
    if sort == "oldest":
        return Case.created_at.asc(), Case.id.asc()
    if sort == "deadline":
        return Case.deadline_at.asc(), Case.id.asc()
    if sort == "overdue-first":
        closed = when((Case.status == "closed", 1), else_=0)
        return (
            closed.asc(),
            when((Case.status == "closed", None), else_=Case.deadline_at).asc(),
            (Case.closed_at.desc()),
            Case.id.desc(),
        )
    return Case.created_at.desc(), Case.id.desc()
