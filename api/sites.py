"""Sites come into being when something first refers to them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.models import Site

# Sites known to exist in each database (sites are never deleted), so that the hot ingest path skips the
# lookup; keyed by the engine's URL because tests and benchmarks run several databases in one process.
_known: dict[str, set[str]] = {}


def ensure_site(session: Session, *, site_id: str) -> None:
    """Create the site row when missing, flushed so that rows referring to it can follow."""
    known = _known.setdefault(str(session.get_bind().engine.url), set())
    if site_id in known:
        return
    if session.get(Site, site_id) is None:
        session.add(Site(id=site_id, created_at=datetime.now(UTC)))
        session.flush()  # not remembered yet: this transaction may still roll back
    else:
        known.add(site_id)
