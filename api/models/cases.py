"""The tables of the closed loop: cases, their events and history, the policies that open them, tracked
issues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class Case(Base):
    """A case in the closed loop: the events of one incident, followed from dispatch to closure."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    camera_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(100))  # the case system's own number
    reinspect_until: Mapped[datetime | None]  # end of the re-inspection window, while in reinspection


class CaseEvent(Base):
    """An event belonging to a case."""

    __tablename__ = "case_events"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), primary_key=True, index=True)


class CaseHistory(Base):
    """Every change of a case's state: when, who, from what to what, why."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class CasePolicy(Base):
    """Per site and kind: when a case is opened automatically, and its deadline."""

    __tablename__ = "case_policies"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # on_start | on_confirm | never
    deadline_hours: Mapped[float] = mapped_column(Float)


class TrackedIssue(Base):
    """A recurring problem (类案) a supervisor chose to track: found by the analysis, given an owner and a
    deadline, closed like a case. ``finding`` keeps what the analysis found (kind, subject, figures)."""

    __tablename__ = "tracked_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_kind: Mapped[str] = mapped_column(String(32))  # recurring_company | rising_project | ...
    subject: Mapped[str] = mapped_column(String(200))  # the company, project id, camera or kind concerned
    title: Mapped[str] = mapped_column(String(300))
    finding: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner: Mapped[str] = mapped_column(String(100))
    deadline_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
