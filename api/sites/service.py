"""Sites come into being when something first refers to them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.core.errors import InvalidError
from api.models import CameraHealth, Site
from api.sites.false_alarm_memory import add_suppressions
from api.sites.schemas import CameraHealthIn

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


def record_health(session: Session, *, items: list[CameraHealthIn]) -> None:
    """Replace the stored health of the reported cameras (the caller has checked the sites) and add their
    false-alarm suppressions up; commits.

    Raises:
        InvalidError: a thumbnail that is not a JPEG image; nothing is stored.
    """
    now = datetime.now(UTC)
    for item in items:
        ensure_site(session, site_id=item.site_id)
        values = item.model_dump(exclude={"thumbnail_jpeg", "suppressions", "suppressions_run"})
        if item.thumbnail_jpeg is not None:
            if not item.thumbnail_jpeg.startswith(b"\xff\xd8"):
                raise InvalidError(f"camera {item.camera_id}: the thumbnail is not a JPEG image")
            values["thumbnail"] = item.thumbnail_jpeg
        row = session.get(CameraHealth, (item.site_id, item.camera_id))
        if row is None:
            row = CameraHealth(**values, reported_at=now)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.reported_at = now
        counts = {str(kind): count for kind, count in item.suppressions.items()}
        row.suppression_counts = add_suppressions(
            row.suppression_counts, run=item.suppressions_run, counts=counts
        )
    session.commit()
