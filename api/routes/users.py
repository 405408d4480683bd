"""People: log in and out (session cookie for the web UI), and the users admins manage."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth import SESSION_COOKIE, SESSION_HOURS, create_user, logout
from api.deps import Admin, Reader, SessionDep, in_scope, same_site, within_scope
from api.events import audit
from api.login import LoginRefusedError, password_login
from api.models import User
from api.schemas import LoginIn, UserIn, UserPublic

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.post(
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
    and per client address (:mod:`api.login`)."""
    same_site(request)  # no log-in forced on a browser by another site
    state = request.app.state
    try:
        token = await password_login(
            sessions=state.sessions,
            throttle=state.login_throttle,
            hashing=state.password_hashing,
            username=body.username,
            password=body.password,
            address=request.client.host if request.client else "unknown",
        )
    except LoginRefusedError as exc:
        headers = {"Retry-After": str(int(exc.retry_after_s))} if exc.retry_after_s else None
        raise HTTPException(exc.status, exc.detail, headers=headers) from None
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
def whoami(principal: Reader) -> dict[str, object]:
    """Who the caller is."""
    return {"name": principal.name, "role": principal.role, "site_ids": list(principal.site_ids)}


@router.post(
    "/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, operation_id="create_user"
)
def add_user(body: UserIn, principal: Admin, session: SessionDep) -> UserPublic:
    """Create a user (the password is stored hashed); a site-scoped admin only for some of its sites."""
    within_scope(principal, body.site_ids)
    try:
        user = create_user(
            session, username=body.username, password=body.password, role=body.role, site_ids=body.site_ids
        )
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username} exists") from None
    audit(
        session,
        actor=principal.name,
        action="create_user",
        target=f"user:{body.username}",
        details={"role": body.role},
    )
    session.commit()
    return UserPublic.model_validate(user)


@router.get("/users", response_model=list[UserPublic], operation_id="list_users")
def users(principal: Admin, session: SessionDep) -> list[UserPublic]:
    """Every user within the caller's sites."""
    rows = session.scalars(select(User).order_by(User.username))
    return [UserPublic.model_validate(u) for u in rows if in_scope(principal, u.site_ids)]
