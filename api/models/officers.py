"""The tables of safety officers: who they are, their encrypted face embeddings, when they were on site."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class Officer(Base):
    """A site's designated safety officer. Photos are not kept; embeddings are, encrypted."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class OfficerEmbedding(Base):
    """One face embedding of an officer, encrypted with the key from ``SITEWATCH_FACE_KEY``."""

    __tablename__ = "officer_embeddings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class PresenceInterval(Base):
    """An officer seen on site from ``start`` to ``end`` (sightings closer than a gap merged)."""

    __tablename__ = "presence_intervals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    officer: Mapped[str] = mapped_column(String(100))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
