"""Officers: enrolment from photos (faces embedded here, photos discarded), encrypted embeddings,
the gallery edge boxes fetch, and the presence timeline built from their sightings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.core.errors import InvalidError
from api.core.secretkeys import SecretKey, data_keys
from api.models import Officer, OfficerEmbedding, PresenceInterval
from api.sites.service import ensure_site

logger = logging.getLogger(__name__)

PRESENCE_GAP = timedelta(minutes=2)
#: The most photos of one enrolment.
MAX_PHOTOS = 20
#: The most pixels of an enrolment photo (a small file may hold a huge picture).
MAX_PIXELS = 50_000_000
#: Photos are decoded at most this wide and high (JPEGs shrink while they are decoded): faces need no more.
MAX_SIDE = 2048

_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def encrypt_embedding(vector: np.ndarray, *, key: SecretKey) -> bytes:
    """An embedding as float32 bytes, encrypted with ``key`` (an app's ``DataKeys.face``)."""
    return key.encrypt(np.asarray(vector, np.float32).tobytes())


def decrypt_embedding(token: bytes, *, key: SecretKey) -> np.ndarray:
    """The embedding of an encrypted token.

    Raises:
        FaceKeyError: the key is missing or is not the one the token was made with.
    """
    return np.frombuffer(key.decrypt(token), np.float32)


def decode_photo(data: bytes, source: str) -> np.ndarray:
    """An enrolment photo as a BGR image no larger than ``MAX_SIDE``.

    It is decoded at an eighth of its size first (cheap for a JPEG) to learn its size, then at the smallest
    reduction that keeps it at least ``MAX_SIDE`` on its longer side, and shrunk to ``MAX_SIDE``.

    Raises:
        ValueError: the photo cannot be read, or it has more than ``MAX_PIXELS`` pixels.
    """
    buffer = np.frombuffer(data, np.uint8)
    small = cv2.imdecode(buffer, cv2.IMREAD_REDUCED_COLOR_8) if data else None
    if small is None:
        raise ValueError(f"{source}: cannot read the photo")
    height, width = small.shape[0] * 8, small.shape[1] * 8
    if height * width > MAX_PIXELS * 1.1:
        raise ValueError(
            f"{source}: about {height * width / 1e6:.0f} megapixels; at most {MAX_PIXELS / 1e6:.0f}"
        )
    flag = next((f for factor, f in _REDUCED if max(height, width) // factor >= MAX_SIDE), cv2.IMREAD_COLOR)
    image = cv2.imdecode(buffer, flag)
    if image is None:
        raise ValueError(f"{source}: cannot read the photo")
    longest = max(image.shape[:2])
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


@dataclass(slots=True)
class Enrolment:
    """The result of an enrolment: embeddings kept, and why each rejected photo was refused."""

    officer: Officer
    embeddings: int
    rejected: list[str] = field(default_factory=list)


def enroll_officer(
    session: Session, *, site_id: str, name: str, photos: list[tuple[str, bytes]], analyzer: Any, actor: str
) -> Enrolment:
    """Embed the single face of each photo and store the officer with encrypted embeddings.

    Photos are decoded in memory (:func:`decode_photo`) and discarded. Photos with no face or several
    faces, unreadable or too large ones are rejected. CPU-heavy: call it from a worker thread.

    Raises:
        InvalidError: no photo was usable (the reasons are in the message).
        FaceKeyError: no encryption key (503).
    """
    from detector.faces import EnrollmentError, enrollment_embedding

    key = data_keys(session).face
    key.cipher()  # fail before any work when face data cannot be stored
    vectors, rejected = [], []
    for filename, data in photos:
        try:
            image = decode_photo(data, filename)
            vectors.append(enrollment_embedding(analyzer, image, filename))
        except (EnrollmentError, ValueError) as exc:
            rejected.append(str(exc))
    if not vectors:
        raise InvalidError("no usable photo: " + "; ".join(rejected))
    now = datetime.now(UTC)
    ensure_site(session, site_id=site_id)
    officer = Officer(site_id=site_id, name=name, enabled=True, created_at=now)
    session.add(officer)
    session.flush()
    for vector in vectors:
        session.add(
            OfficerEmbedding(
                officer_id=officer.id, ciphertext=encrypt_embedding(vector, key=key), created_at=now
            )
        )
    audit(
        session,
        actor=actor,
        action="enroll_officer",
        target=f"officer:{officer.id}",
        details={"site": site_id, "photos": len(photos), "rejected": len(rejected)},
    )
    session.commit()
    return Enrolment(officer=officer, embeddings=len(vectors), rejected=rejected)


def delete_officer(session: Session, *, officer: Officer, actor: str) -> None:
    """Remove an officer and every embedding of theirs."""
    session.execute(delete(OfficerEmbedding).where(OfficerEmbedding.officer_id == officer.id))
    audit(session, actor=actor, action="delete_officer", target=f"officer:{officer.id}")
    session.delete(officer)
    session.commit()


def gallery(session: Session, *, site_id: str) -> dict[str, list[list[float]]]:
    """Decrypted embeddings of the site's enabled officers, by name (what an edge box needs)."""
    rows = session.execute(
        select(Officer.name, OfficerEmbedding.ciphertext)
        .join(OfficerEmbedding, OfficerEmbedding.officer_id == Officer.id)
        .where(Officer.site_id == site_id, Officer.enabled.is_(True))
    )
    key = data_keys(session).face
    out: dict[str, list[list[float]]] = {}
    for name, token in rows:
        out.setdefault(name, []).append([round(float(v), 6) for v in decrypt_embedding(token, key=key)])
    return out


def record_sighting(
    session: Session, *, site_id: str, officer: str, camera_id: str | None, at: datetime
) -> None:
    """Extend the officer's latest interval when the sighting is within the gap, else start one."""
    last = session.scalar(
        select(PresenceInterval)
        .where(PresenceInterval.site_id == site_id, PresenceInterval.officer == officer)
        .order_by(PresenceInterval.end.desc())
    )
    if last is not None and timedelta(0) <= at - last.end <= PRESENCE_GAP:
        last.end = at
        session.commit()
        return
    ensure_site(session, site_id=site_id)
    session.add(PresenceInterval(site_id=site_id, officer=officer, camera_id=camera_id, start=at, end=at))
    session.commit()


def timeline(session: Session, *, site_id: str, start: datetime, end: datetime) -> list[PresenceInterval]:
    """Presence intervals of the site overlapping ``[start, end)``, in order."""
    return list(
        session.scalars(
            select(PresenceInterval)
            .where(
                PresenceInterval.site_id == site_id,
                PresenceInterval.start < end,
                PresenceInterval.end >= start,
            )
            .order_by(PresenceInterval.start)
        )
    )
