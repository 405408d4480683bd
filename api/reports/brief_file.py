"""A brief as a request asks for it: the period parsed, the brief rendered as HTML and its download
audited (one transaction that it commits), then printed to PDF when asked, a few at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.deps import visible_site
from api.core.errors import BadRequestError, UnavailableError
from api.http.services import Slot
from api.reports.briefs import brief_data, render_html
from api.reports.closed_loop import LoopTargets
from api.reports.pdf import render_pdf
from api.reports.periods import Period, PeriodError
from api.storage.interface import EvidenceStore

#: A brief is self-contained: inline styles and SVG, pictures as data: URLs, no script at all.
BRIEF_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True, slots=True)
class BriefFile:
    """A brief to send: its content, media type and response headers."""

    content: str | bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)


def brief_stem(period: str, site_id: str | None, lang: str) -> str:
    """A brief's file name without its suffix: the period, the scope and the language, so that the zh and
    the en brief of one period never overwrite each other.

    Example:
        >>> brief_stem("2026-11", None, "en")
        'sitewatch-2026-11-district-en'
    """
    return f"sitewatch-{period}-{site_id or 'district'}-{lang}"


def parse_period(period: str, tz: str) -> Period:
    """The period ``period`` (``2026-W48``, ``2026-11``) in the time zone ``tz``.

    Raises:
        PeriodError: not a week or a month of the years the API accepts (422).
        BadRequestError: no time zone of that name.
    """
    try:
        return Period.parse(period, tz)
    except PeriodError:
        raise
    except (KeyError, ValueError, OSError):
        raise BadRequestError(f"unknown time zone {tz!r}") from None


@dataclass(slots=True)
class PdfTurns:
    """The PDF briefs one process prints at once (each print is a Chromium), and how long a request waits
    for a turn before a 503."""

    slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(2))
    wait_s: float = 10.0


#: The app's turns of PDF printing.
PDF_TURNS: Slot[PdfTurns] = Slot("the turns of PDF printing")


def print_pdf(html: str, *, turns: PdfTurns) -> bytes:
    """``html`` printed to PDF once one of the ``turns`` is free.

    Raises:
        UnavailableError: no turn came free within ``turns.wait_s`` seconds (with ``Retry-After``).
        PdfUnavailableError: no Chromium to print with, or it failed.
    """
    slots = turns.slots
    if not slots.acquire(timeout=turns.wait_s):
        raise UnavailableError(
            "too many PDF briefs are being printed: retry shortly", headers={"Retry-After": "10"}
        )
    try:
        return render_pdf(html)
    finally:
        slots.release()


def brief_file(
    session: Session,
    *,
    principal: Principal,
    store: EvidenceStore,
    period: str,
    tz: str,
    site_id: str | None = None,
    format: str = "html",
    lang: str = "zh",
    pdf: PdfTurns,
    targets: LoopTargets | None = None,
) -> BriefFile:
    """The brief of ``period`` for the sites ``principal`` sees (or for ``site_id``), as HTML or PDF, in
    ``lang`` (its file name says which: ``sitewatch-2026-11-district-zh.pdf``), with the closed loop measured
    against ``targets``; audited.

    Raises:
        PeriodError: see :func:`parse_period`.
        BadRequestError: an unknown time zone.
        HTTPException: 404 for a site the caller may not see.
        UnavailableError: see :func:`print_pdf`.
    """
    span = parse_period(period, tz)
    if site_id is not None:
        visible_site(principal, site_id)
    html = render_html(
        brief_data(
            session,
            principal=principal,
            period=span,
            store=store,
            site_id=site_id,
            lang=lang,
            targets=targets,
        )
    )
    audit(
        session,
        actor=principal.name,
        action="brief",
        target=f"site:{site_id or '*'}",
        details={"period": period, "format": format},
    )
    session.commit()
    stem = brief_stem(period, site_id, lang)
    if format == "html":
        headers = {
            "Content-Security-Policy": BRIEF_POLICY,
            "Content-Disposition": f'inline; filename="{stem}.html"',
        }
        return BriefFile(html, "text/html; charset=utf-8", headers)
    printed = print_pdf(html, turns=pdf)
    filename = f"{stem}.pdf"
    return BriefFile(printed, "application/pdf", {"Content-Disposition": f'inline; filename="{filename}"'})
