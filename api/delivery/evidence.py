"""Evidence opened through a signed, time-limited link (:mod:`api.delivery.links`): no key, the signature
is the credential; each download audited in a transaction that it commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.core.errors import ForbiddenError, NotFoundError
from api.delivery.links import valid
from api.models import EvidenceFile
from api.storage.interface import EvidenceStore


def open_link(
    session: Session, *, store: EvidenceStore, key: bytes, sha256: str, expires: int, sig: str
) -> tuple[bytes, str]:
    """The file ``sha256`` and its media type, if ``sig`` signs it until ``expires`` under ``key``.

    Raises:
        ForbiddenError: the signature does not match, or the link has expired.
        NotFoundError: the evidence is no longer kept (deleted by retention).
    """
    if not valid(key, sha256, expires, sig):
        raise ForbiddenError("the link is invalid or has expired")
    row = session.get(EvidenceFile, sha256)
    if row is None:
        raise NotFoundError("this evidence is no longer kept")
    audit(session, actor="signed-link", action="download_evidence", target=f"evidence:{sha256}")
    session.commit()
    try:
        return store.get(sha256), row.media_type
    except FileNotFoundError:
        raise NotFoundError("this evidence is no longer kept") from None
