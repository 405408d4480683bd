"""The tables of sites and their projects: the site itself, its configuration, its cameras' health."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class Site(Base):
    """A construction site."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class CameraHealth(Base):
    """The latest health an edge box reported for a camera."""

    __tablename__ = "camera_health"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool]
    input_fps: Mapped[float] = mapped_column(Float, default=0.0)
    frames_processed: Mapped[int] = mapped_column(Integer, default=0)
    last_frame_at: Mapped[datetime | None]
    offline_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    reported_at: Mapped[datetime]
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)  # a small JPEG of the last frame
    # False-alarm suppressions per kind: {"total": {kind: n}, "run": id, "at_run_start": {kind: n}}, so
    # that the total goes on growing across restarts of the edge box (whose counts start again at 0).
    suppression_counts: Mapped[dict[str, Any] | None]


class SiteConfig(Base):
    """A site's configuration document, as its edge boxes fetch it (validated on the edge)."""

    __tablename__ = "site_configs"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    document: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class Project(Base):
    """A small construction project (工程) under supervision, watched through one site's cameras.

    Its rules are armed from ``planned_start`` to ``planned_end`` (local dates, both included); extending a
    project moves ``planned_end``. ``closed_at`` is set when a supervisor closes it early or after the end.
    ``contact_phone`` is personal data: stored encrypted (a Fernet token), shown masked to viewers.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    street: Mapped[str] = mapped_column(String(100), default="", server_default="", index=True)  # 街道
    community: Mapped[str] = mapped_column(String(100), default="", server_default="")  # 社区
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    builder: Mapped[str] = mapped_column(String(200), default="")  # 建设单位, the client
    company: Mapped[str] = mapped_column(String(200), default="", index=True)  # 施工单位, the contractor
    permit_no: Mapped[str] = mapped_column(String(100), default="")  # permit or filing number
    contact_name: Mapped[str] = mapped_column(String(100), default="")  # person responsible for safety
    contact_phone: Mapped[str | None] = mapped_column(Text)  # encrypted
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
