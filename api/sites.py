"""Sites come into being when something first refers to them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.models import Site


def ensure_site(session: Session, *, site_id: str) -> None:
    """Create the site row when missing, flushed so that rows referring to it can follow."""
    if session.get(Site, site_id) is None:
        session.add(Site(id=site_id, created_at=datetime.now(UTC)))
        session.flush()
