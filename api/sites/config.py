"""Sites' configurations as the API stores them (admins) and serves them (edge boxes, with the site's
unexpired false-alarm memory)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import InvalidError, NotFoundError
from api.core.schemas import check_document
from api.models import SiteConfig
from api.sites.false_alarm_memory import active_entries
from api.sites.schemas import FalseAlarmPublic, SiteConfigPublic
from api.sites.service import ensure_site


def put_site_config(
    session: Session, *, principal: Principal, site_id: str, document: dict[str, Any]
) -> SiteConfigPublic:
    """Store ``document`` as ``site_id``'s configuration, one version after the last; audited as
    ``put_site_config``; commits.

    Raises:
        InvalidError: a document the database cannot store, or one naming another site.
    """
    if (problem := check_document(document)) is not None:
        raise InvalidError(problem)
    site = document.get("site")
    if site is not None and (not isinstance(site, dict) or site.get("id") not in (None, site_id)):
        raise InvalidError(f"site.id must be {site_id!r}")
    ensure_site(session, site_id=site_id)
    row = session.get(SiteConfig, site_id)
    now = datetime.now(UTC)
    if row is None:
        row = SiteConfig(site_id=site_id, document=document, version=1, updated_at=now)
        session.add(row)
    else:
        row.document, row.version, row.updated_at = document, row.version + 1, now
    audit(session, actor=principal.name, action="put_site_config", target=f"site:{site_id}", details={})
    session.commit()
    return SiteConfigPublic(
        site_id=site_id, version=row.version, updated_at=row.updated_at, document=row.document
    )


def site_config(session: Session, *, principal: Principal, site_id: str) -> SiteConfigPublic:
    """``site_id``'s configuration with its unexpired false-alarm memory, for its edge boxes.

    Raises:
        NotFoundError: no configuration, or a site the principal may not see (the same answer).
    """
    row = session.get(SiteConfig, site_id) if principal.sees(site_id) else None
    if row is None:
        raise NotFoundError(f"no configuration for site {site_id}")
    return SiteConfigPublic(
        site_id=site_id,
        version=row.version,
        updated_at=row.updated_at,
        document=row.document,
        false_alarms=[FalseAlarmPublic.model_validate(e) for e in active_entries(session, site_id=site_id)],
    )
