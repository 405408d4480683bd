"""The tables of who may do what and who did: API keys, users, their browser sessions, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class ApiKey(Base):
    """A machine's or person's key; only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | supervisor | viewer | edge | integration
    site_ids: Mapped[list[Any]] = mapped_column(default=list)  # empty: all sites
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what: every mutating action and every evidence download by a person."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    """A person who logs in (supervisors, viewers, admins); the password is stored as an scrypt hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    site_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)


class WebSession(Base):
    """A logged-in browser session; only the hash of its token is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginFailures(Base):
    """Failed log-ins of one user name (``user:NAME``) or from one client address (``addr:IP``), and the
    attempts now being checked, shared by every server process (:mod:`api.access.throttle`). Times are
    seconds since the epoch on the throttle's clock."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[float] = mapped_column(Float, default=0.0)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)
    in_flight: Mapped[int] = mapped_column(default=0)
    in_flight_since: Mapped[float] = mapped_column(Float, default=0.0)
