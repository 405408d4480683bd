"""People: log in and out (session cookie for the web UI), and the users admins manage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from api.access import user_admin
from api.access.auth import Principal
from api.access.deps import Admin, Reader, ScopedUser, SessionDep, get_principal, same_site, within_scope
from api.access.login import LOGIN_THROTTLE, PASSWORD_CHECKS, change_own_password, password_login
from api.access.schemas import LoginIn, PasswordChangeIn, PasswordIn, UserChanged, UserIn, UserPublic
from api.access.users import SESSION_COOKIE, SESSION_HOURS, logout
from api.http.params import API_PREFIX
from api.http.services import ServicesDep, services_of

router = APIRouter(prefix=API_PREFIX, tags=["users"])
#: Log-in, the one route of people's access that answers without a principal (listed in
#: :data:`api.app.OPEN_ROUTES`).
open_router = APIRouter(prefix=API_PREFIX, tags=["users"])


@open_router.post(
    "/auth/login",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="login",
    responses={
        401: {"description": "Wrong user name or password."},
        429: {"description": "Too many failed log-ins of this name or from this address: see Retry-After."},
        503: {"description": "Too many log-ins at once: see Retry-After."},
    },
)
async def log_in(body: LoginIn, request: Request, response: Response) -> None:
    """Start a session: an HttpOnly cookie good for 12 hours. Failed attempts are throttled per user name
    and per client address (:mod:`api.access.login`)."""
    same_site(request)  # no log-in forced on a browser by another site
    services = services_of(request.app)
    token = await password_login(
        sessions=services.sessions,
        throttle=services.get(LOGIN_THROTTLE),
        hashing=services.get(PASSWORD_CHECKS),
        username=body.username,
        password=body.password,
        address=request.client.host if request.client else "unknown",
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, operation_id="logout")
def log_out(request: Request, response: Response, principal: Reader, session: SessionDep) -> None:
    """End the current session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        logout(session, token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/auth/me", response_model=dict[str, object], operation_id="whoami")
def whoami(principal: Reader, services: ServicesDep) -> dict[str, object]:
    """Who the caller is, and the API's time zone (of local days and hours: the web UI counts in it)."""
    return {
        "name": principal.name,
        "role": principal.role,
        "site_ids": list(principal.site_ids),
        "timezone": services.zone.key,
    }


@router.post(
    "/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, operation_id="create_user"
)
def add_user(body: UserIn, principal: Admin, session: SessionDep) -> UserPublic:
    """Create a user (the password is stored hashed); a site-scoped admin only for some of its sites."""
    within_scope(principal, body.site_ids)
    return user_admin.create(session, principal=principal, body=body)


@router.get("/users", response_model=list[UserPublic], operation_id="list_users")
def users(principal: Admin, session: SessionDep) -> list[UserPublic]:
    """Every user within the caller's sites."""
    return user_admin.list_users(session, principal=principal)


@router.post("/users/{user_id}/disable", response_model=UserChanged, operation_id="disable_user")
def disable_user(principal: Admin, user: ScopedUser, session: SessionDep) -> UserChanged:
    """Disable a user: no more log-ins, and every session of theirs ends at once (404 for a user outside
    a site-scoped admin's sites)."""
    return user_admin.set_disabled(session, principal=principal, user=user, disabled=True)


@router.post("/users/{user_id}/enable", response_model=UserChanged, operation_id="enable_user")
def enable_user(principal: Admin, user: ScopedUser, session: SessionDep) -> UserChanged:
    """Let a disabled user log in again."""
    return user_admin.set_disabled(session, principal=principal, user=user, disabled=False)


@router.put("/users/{user_id}/password", response_model=UserChanged, operation_id="set_user_password")
def set_password(body: PasswordIn, principal: Admin, user: ScopedUser, session: SessionDep) -> UserChanged:
    """Set a user's password (stored as an scrypt hash); every session of theirs ends."""
    return user_admin.set_password(session, principal=principal, user=user, password=body.password)


@router.delete("/users/{user_id}/sessions", response_model=UserChanged, operation_id="end_user_sessions")
def end_user_sessions(principal: Admin, user: ScopedUser, session: SessionDep) -> UserChanged:
    """End every web session of a user (they must log in again)."""
    return user_admin.end_user_sessions(session, principal=principal, user=user)


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="change_own_password",
    responses={
        403: {"description": "The old password is wrong, or the caller is not logged in with a session."},
        429: {"description": "Too many wrong passwords of this user: see Retry-After."},
    },
)
async def change_password(
    body: PasswordChangeIn, request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> None:
    """Change one's own password, giving the old one: only with a web session (not an API key); the
    person's other sessions end, this one goes on. Wrong old passwords are throttled like log-ins."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or request.headers.get("Authorization"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only a person logged in with a session changes their password"
        )
    services = services_of(request.app)
    await change_own_password(
        sessions=services.sessions,
        throttle=services.get(LOGIN_THROTTLE),
        hashing=services.get(PASSWORD_CHECKS),
        token=token,
        old_password=body.old_password,
        new_password=body.new_password,
        address=request.client.host if request.client else "unknown",
    )
