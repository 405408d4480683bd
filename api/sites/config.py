"""Sites' configurations as the API stores them (admins) and serves them (edge boxes, with the site's
unexpired false-alarm memory).

A document is stored only if the site's workers will load it. Their configuration model is the edge's
(``sitewatch.config``, above ``api`` in the import layers), so the API does not import it: whoever builds
the app hands in a :data:`ConfigCheck` (``sitewatch`` passes
:func:`sitewatch.remote_config.check_site_config` to :func:`api.app.create_app`); an app built without one
stores no configuration at all (503) rather than one no worker has vouched for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import InvalidError, NotFoundError, UnavailableError
from api.core.schemas import check_document
from api.http.services import Slot
from api.models import SiteConfig
from api.sites.false_alarm_memory import active_entries
from api.sites.schemas import FalseAlarmPublic, SiteConfigPublic
from api.sites.service import ensure_site

#: The problems a site's workers would find in a configuration document stored for the site, one line each
#: in their own words (``file:line: key: message``); none for a document they will load. Called with the
#: site's id and the document as sent.
ConfigCheck = Callable[[str, dict[str, Any]], list[str]]


def put_site_config(
    session: Session,
    *,
    principal: Principal,
    site_id: str,
    document: dict[str, Any],
    check: ConfigCheck | None,
) -> SiteConfigPublic:
    """Store ``document`` as ``site_id``'s configuration, one version after the last; audited as
    ``put_site_config``; commits.

    Raises:
        InvalidError: a document the database cannot store, one naming another site, or one the site's
            workers would refuse (``detail``: their reasons, one string each).
        UnavailableError: the app has no :data:`ConfigCheck`.
    """
    if (problem := check_document(document)) is not None:
        raise InvalidError(problem)
    site = document.get("site")
    if site is not None and (not isinstance(site, dict) or site.get("id") not in (None, site_id)):
        raise InvalidError(f"site.id must be {site_id!r}")
    if check is None:
        raise UnavailableError(
            "this API was started without the workers' configuration check: it stores no site configuration"
        )
    if problems := check(site_id, document):
        raise InvalidError(problems)
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


#: The check of site configurations the app was given (``None``: none, and nothing is stored).
CONFIG_CHECK: Slot[ConfigCheck | None] = Slot("the check of site configurations")
