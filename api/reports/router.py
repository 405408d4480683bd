"""``GET /api/v1/briefs``: a weekly or monthly brief, as HTML or PDF."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.access.deps import NameQuery, Reader, SessionDep, StoreDep, ZoneDep
from api.http.params import API_PREFIX
from api.http.services import services_of
from api.reports.brief_file import PDF_TURNS, brief_file

router = APIRouter(prefix=API_PREFIX, tags=["briefs"])


@router.get(
    "/briefs",
    operation_id="get_brief",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def brief(
    request: Request,
    principal: Reader,
    session: SessionDep,
    store: StoreDep,
    zone: ZoneDep,
    period: Annotated[str, Query(max_length=20, description="A week (2026-W48) or a month (2026-11).")],
    site_id: NameQuery = None,
    format: Literal["html", "pdf"] = "html",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """The brief of a district (every site the caller sees) or of one site; PDFs are printed two at a time
    (503 with ``Retry-After`` when the wait for a turn is too long)."""
    answer = brief_file(
        session,
        principal=principal,
        store=store,
        period=period,
        tz=zone.key,
        site_id=site_id,
        format=format,
        lang=lang,
        pdf=services_of(request.app).get(PDF_TURNS),
    )
    return Response(answer.content, media_type=answer.media_type, headers=answer.headers)
