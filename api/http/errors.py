"""The answer to a :class:`api.core.errors.DomainError`, registered once for the whole app."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from api.core.errors import DomainError


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    """``{"detail": ...}`` with the error's status and headers, as FastAPI answers an ``HTTPException``."""
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
