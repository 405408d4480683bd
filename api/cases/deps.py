"""The case a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from api.access.deps import Caller, IdPath, NameQuery, SessionDep
from api.access.scope import visible_or_404
from api.cases.filters import CaseFilters, CaseState
from api.core.schemas import Time
from api.models import Case


def visible_case(case_id: IdPath, principal: Caller, session: SessionDep) -> Case:
    """The case ``case_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such case, or one the caller may not see (the same answer, so that ids of other
            sites' cases cannot be probed).
    """
    return visible_or_404(session, Case, case_id, principal=principal, what="case")


VisibleCase = Annotated[Case, Depends(visible_case)]


StatusName = Literal["open", "dispatched", "rectifying", "reinspection", "closed", "reopened"]


def case_filters(
    site_id: NameQuery = None,
    camera_id: NameQuery = None,
    project_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    contractor: Annotated[
        str | None, Query(max_length=200, description="A part of the project's company (施工单位), any case.")
    ] = None,
    street: Annotated[
        str | None, Query(max_length=100, description="The project's street (街道), exactly.")
    ] = None,
    community: Annotated[
        str | None, Query(max_length=100, description="The project's community (社区), exactly.")
    ] = None,
    kind: NameQuery = None,
    case_status: Annotated[
        list[StatusName] | None,
        Query(alias="status", description="One or more statuses (repeat the parameter)."),
    ] = None,
    state: Annotated[
        CaseState, Query(description="``active``: not closed; ``closed``; ``all`` (the default).")
    ] = "all",
    overdue: Annotated[
        bool | None, Query(description="Only overdue cases (true) or only the others (false).")
    ] = None,
    since: Annotated[Time | None, Query(description="Opened at or after.")] = None,
    until: Annotated[Time | None, Query(description="Opened before.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="A part of the project's name, address or company, the case system's number, or the "
            "case's number.",
        ),
    ] = None,
) -> CaseFilters:
    """The case board's filters from the query string (the same for the list, its summary and exports)."""
    return CaseFilters(
        site_id=site_id,
        camera_id=camera_id,
        project_id=project_id,
        contractor=contractor,
        street=street,
        community=community,
        kind=kind,
        status=tuple(dict.fromkeys(case_status or ())),
        state=state,
        overdue=overdue,
        since=since,
        until=until,
        q=q,
    )


#: The case board's filters of a request (api.cases.filters.CaseFilters).
CaseFiltersDep = Annotated[CaseFilters, Depends(case_filters)]
