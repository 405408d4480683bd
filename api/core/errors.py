"""The refusals of the API's domains: one :class:`DomainError` family, each class carrying its HTTP status.

Services raise them; one exception handler (:func:`api.http.errors.domain_error`) answers them as
``{"detail": ...}`` with that status, so routes hold no ``try``/``except`` blocks that turn a service's
exception into an HTTP one.

>>> error = ConflictError("a closed case cannot become closed")
>>> error.status_code, error.detail
(409, 'a closed case cannot become closed')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """A request the domain refuses, answered with :attr:`status_code` and :attr:`detail`.

    Args:
        detail: what the caller reads: a sentence, or FastAPI's list of field problems.
        headers: extra response headers (``Retry-After``).
    """

    status_code: ClassVar[int] = 400

    def __init__(self, detail: Any, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers) if headers else None


class BadRequestError(DomainError):
    """A parameter out of range or malformed (400)."""


class UnauthorizedError(DomainError):
    """Credentials that do not hold (401)."""

    status_code = 401


class ForbiddenError(DomainError):
    """The caller may not do this (403)."""

    status_code = 403


class NotFoundError(DomainError):
    """Nothing of that id, or nothing the caller may see (404)."""

    status_code = 404


class ConflictError(DomainError):
    """The request conflicts with the record's state (409)."""

    status_code = 409


class InvalidError(DomainError):
    """A body the domain cannot accept although its shape is right (422)."""

    status_code = 422


class UnavailableError(DomainError):
    """Something the request needs is missing or busy now: a key, Chromium, a free turn (503)."""

    status_code = 503
