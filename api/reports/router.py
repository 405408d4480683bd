"""``GET /api/v1/briefs``: a weekly or monthly brief, as HTML or PDF."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.access.audit import audit
from api.access.deps import NameQuery, Reader, SessionDep, StoreDep, visible_site
from api.http.params import API_PREFIX
from api.reports.briefs import brief_data, render_html
from api.reports.pdf import PdfUnavailableError, render_pdf
from api.reports.periods import Period, PeriodError

router = APIRouter(prefix=API_PREFIX, tags=["briefs"])

#: A brief is self-contained: inline styles and SVG, pictures as data: URLs, no script at all.
BRIEF_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


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
    period: Annotated[str, Query(max_length=20, description="A week (2026-W48) or a month (2026-11).")],
    site_id: NameQuery = None,
    format: Literal["html", "pdf"] = "html",
    lang: Literal["zh", "en"] = "zh",
    tz: Annotated[str, Query(max_length=64)] = "Asia/Shanghai",
) -> Response:
    """The brief of a district (every site the caller sees) or of one site; PDFs are printed two at a time
    (503 with ``Retry-After`` when the wait for a turn is too long)."""
    try:
        span = Period.parse(period, tz)
    except PeriodError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except (KeyError, ValueError, OSError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown time zone {tz!r}") from None
    if site_id is not None:
        visible_site(principal, site_id)
    html = render_html(
        brief_data(session, principal=principal, period=span, store=store, site_id=site_id, lang=lang)
    )
    audit(
        session,
        actor=principal.name,
        action="brief",
        target=f"site:{site_id or '*'}",
        details={"period": period, "format": format},
    )
    session.commit()
    if format == "html":
        return Response(
            html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": BRIEF_POLICY}
        )
    slots = request.app.state.pdf_slots
    if not slots.acquire(timeout=request.app.state.pdf_wait_s):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "too many PDF briefs are being printed: retry shortly",
            headers={"Retry-After": "10"},
        )
    try:
        pdf = render_pdf(html)
    except PdfUnavailableError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    finally:
        slots.release()
    filename = f"sitewatch-{period}-{site_id or 'district'}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
