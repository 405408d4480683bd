"""What the API reads and writes about access: API keys, users and their passwords, logins, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.core.schemas import InModel


class KeyIn(InModel):
    """A key to create."""

    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "viewer", "edge", "integration"]
    site_ids: list[str] = Field(default_factory=list, description="Sites it may see; empty: all.")


class KeyCreated(BaseModel):
    """The new key, shown this once."""

    id: int
    name: str
    role: str
    key: str


class KeyPublic(BaseModel):
    """A key as admins see it: never the key itself, only its first characters to recognise it by."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: str
    site_ids: list[str]
    created_at: datetime
    revoked_at: datetime | None


class AuditPublic(BaseModel):
    """One audit log entry."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class LoginIn(InModel):
    """A person's credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserIn(InModel):
    """A user to create."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")
    role: Literal["admin", "supervisor", "viewer"]
    site_ids: list[str] = Field(default_factory=list, description="Sites the user may see; empty: all.")


class PasswordIn(InModel):
    """A user's new password, set by an admin."""

    password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")


class PasswordChangeIn(InModel):
    """A logged-in person's own password change."""

    old_password: str = Field(min_length=1, max_length=200, description="The current password.")
    new_password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")


class UserPublic(BaseModel):
    """A user, without the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    site_ids: list[str]
    disabled: bool


class UserChanged(BaseModel):
    """A user after an admin's change, and how many of their web sessions it ended."""

    user: UserPublic
    sessions_ended: int
