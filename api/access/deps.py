"""FastAPI dependencies: the session, the caller, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import Scope

from api.access.auth import KEY_CACHE, Principal, Role, authenticate, hash_key
from api.access.users import SESSION_COOKIE, session_principal
from api.core.errors import NotFoundError
from api.http.services import ServicesDep, services_of
from api.models import User
from api.storage.interface import EvidenceStore

# The dependencies are coroutines: FastAPI runs a plain function in a worker thread, and the hop there and
# back cost more than most of them do. Only what touches the database leaves the event loop.


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for this request (opening one is free: it connects on first use)."""
    session: Session = services_of(request.app).sessions()
    try:
        yield session
    finally:
        if session.in_transaction():  # a rollback may wait on the database
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_store(request: Request) -> EvidenceStore:
    """The evidence store."""
    store: EvidenceStore = services_of(request.app).store
    return store


StoreDep = Annotated[EvidenceStore, Depends(get_store)]


def _lookup(app: Any, check: Callable[[Session, str], Principal | None], secret: str) -> Principal | None:
    with services_of(app).sessions() as session:
        return check(session, secret)


async def find_principal(app: Any, *, authorization: str, cookie: str | None) -> Principal | None:
    """The caller an ``Authorization`` header (``Bearer <key>``) names, else the one of a web session's
    ``cookie`` (only when no header was sent); ``None`` when neither holds.

    A key checked recently is not looked up again (:class:`api.access.auth.KeyCache`); a lookup has a
    session of its own, so that a request needing none opens none.
    """
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() == "bearer" and key:
        services = services_of(app)
        cache = services.get(KEY_CACHE)
        digest = hash_key(key, services.key_pepper)
        principal: Principal | None = cache.get(digest)
        if principal is None:
            principal = await run_in_threadpool(_lookup, app, authenticate, key)
            if principal is not None:
                cache.put(digest, principal)
        return principal
    if cookie and not authorization:
        return await run_in_threadpool(_lookup, app, session_principal, cookie)
    return None


async def get_principal(request: Request) -> Principal:
    """The caller of an ``Authorization: Bearer <key>`` request, or of a web session's cookie
    (:func:`find_principal`); an unsafe request made with the cookie must come from this site.

    Raises:
        HTTPException: 401 without a valid key.
    """
    header = request.headers.get("Authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and not header and request.method not in SAFE_METHODS:
        same_site(request)
    principal = await find_principal(request.app, authorization=header, cookie=cookie)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API key is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def routes_without_principal(app: FastAPI) -> list[str]:
    """The names of ``app``'s routes that answer without :func:`get_principal` among their dependencies
    (mounted static files and the OpenAPI document included), in the order they are mounted.

    >>> from fastapi import FastAPI
    >>> app = FastAPI(openapi_url=None)
    >>> @app.get("/open")
    ... def open_route() -> None: ...
    >>> @app.get("/closed", dependencies=[Depends(get_principal)])
    ... def closed_route() -> None: ...
    >>> routes_without_principal(app)
    ['open_route']
    """

    def needs(dependant: Dependant) -> bool:
        return dependant.call is get_principal or any(needs(d) for d in dependant.dependencies)

    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if not isinstance(dependant, Dependant) or not needs(dependant):
            found.append(str(route.name))
    return found


def caller_identity(app: Any) -> Callable[[Scope], Awaitable[str | None]]:
    """For the request guard (:class:`api.http.guards.RequestGuard`), which runs before any route: the name
    of the caller a request's headers authenticate, or ``None``, so that no one without a key can hold
    one of the large-upload slots."""

    async def identify(scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        principal = await find_principal(app, authorization=headers.get("authorization", ""), cookie=cookie)
        return None if principal is None else principal.name

    return identify


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_site(request: Request) -> None:
    """Refuse (403) a request a browser sent from another site: what a session cookie must not authorise.

    SameSite=strict keeps the cookie off cross-site requests in current browsers; this checks again, on
    every unsafe request made with the cookie, what browsers say of the request's origin:
    ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``, typed by the user) and ``Origin``, when sent,
    must be this server (as the request reached it, or ``SITEWATCH_PUBLIC_URL``). Requests with neither
    header come from programs, not from a page.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"cross-site request refused (Sec-Fetch-Site: {fetch_site})"
        )
    origin = request.headers.get("origin")
    if origin is not None:
        ours = {f"{request.url.scheme}://{request.headers.get('host', '')}"}
        ours.add(services_of(request.app).settings.public_url.rstrip("/"))
        if origin.rstrip("/") not in ours:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"cross-site request refused (Origin: {origin[:100]})"
            )


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only ``roles`` (admin always)."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        return principal

    return check


async def _unscoped_admin(principal: Annotated[Principal, Depends(require())]) -> Principal:
    """An admin whose key or account is not limited to some sites (403 otherwise)."""
    if principal.site_ids:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this spans every site: a key scoped to some sites may not do it"
        )
    return principal


def within_scope(principal: Principal, site_ids: list[str]) -> None:
    """Refuse (403) to give a key or user more sites than the caller has: ``[]`` means every site."""
    if not principal.site_ids:
        return
    if not site_ids:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a key scoped to some sites may not grant every site (site_ids: [])"
        )
    if wider := sorted(set(site_ids) - set(principal.site_ids)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key may not grant sites {', '.join(wider)}")


def in_scope(principal: Principal, site_ids: list[str]) -> bool:
    """Whether something granted ``site_ids`` (``[]``: every site) lies within the caller's sites."""
    return not principal.site_ids or (bool(site_ids) and set(site_ids) <= set(principal.site_ids))


def visible_site(principal: Principal, site_id: str) -> None:
    """Refuse, as if it did not exist (404), a site the caller may not see."""
    if not principal.sees(site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site_id}")


def scoped_user(user_id: IdPath, principal: Caller, session: SessionDep) -> User:
    """The user ``user_id`` of the path, if within the caller's sites.

    Raises:
        NotFoundError: no such user, or one outside a site-scoped admin's sites (the same answer).
    """
    user = session.get(User, user_id)
    if user is None or not in_scope(principal, user.site_ids):
        raise NotFoundError(f"no user {user_id}")
    return user


def reporting_site(principal: Principal, site_id: str) -> None:
    """Refuse (403) a report an edge key makes for a site that is not its own."""
    if not principal.sees(site_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key may not report for site {site_id}")


#: Whoever the caller is, any role: for dependencies that look up what the route's own principal checks.
Caller = Annotated[Principal, Depends(get_principal)]
Reader = Annotated[Principal, Depends(require("supervisor", "viewer", "integration"))]
Reviewer = Annotated[Principal, Depends(require("supervisor"))]
Edge = Annotated[Principal, Depends(require("edge"))]
ReaderOrEdge = Annotated[Principal, Depends(require("supervisor", "viewer", "integration", "edge"))]
Admin = Annotated[Principal, Depends(require())]
#: An admin of every site: for what spans sites (the audit log, deliveries).
GlobalAdmin = Annotated[Principal, Depends(_unscoped_admin)]

#: A numeric id in a path: bounded so that no database sees an integer it cannot hold.
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]  # the INTEGER of every database
#: The user of a path's ``user_id``, within the caller's sites (404 otherwise): after the route's principal.
ScopedUser = Annotated[User, Depends(scoped_user)]
#: A site id in a path, as edge boxes and configurations spell them.
SiteIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
#: An event id in a path, as edge boxes make them.
EventIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
#: A name used as a filter (site, camera, kind ...).
NameQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
#: A time zone name in a query (``Asia/Shanghai``): checked by :func:`time_zone`.
TzQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="An IANA time zone name; by default the API's own (the alerts configuration's timezone).",
    ),
]


def time_zone(name: str) -> ZoneInfo:
    """The time zone ``name``; 400 with the reason if there is none of that name (a folder of the zone
    database such as ``America`` or a name too long for a file name included)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown time zone {name[:64]!r}") from None


def requested_zone(services: ServicesDep, tz: TzQuery = None) -> ZoneInfo:
    """The time zone a request names in ``tz`` (400 for an unknown one), else the API's own."""
    return time_zone(tz) if tz else services.zone


#: The time zone of a request's local days and hours: its ``tz`` query, else the API's own.
ZoneDep = Annotated[ZoneInfo, Depends(requested_zone)]


#: Longest period one request for figures may cover (a year and a month): bounds the work of one request.
MAX_PERIOD = timedelta(days=400)


def period(
    start: datetime | None, end: datetime | None, *, default: timedelta, names: tuple[str, str]
) -> tuple[datetime, datetime]:
    """The period ``[start, end)`` a request for figures asks for: ``end`` defaults to now and ``start`` to
    ``default`` before it; 400 with the reason (naming the parameters ``names``) when either lacks a time
    zone offset, when they are in the wrong order, or when they span more than :data:`MAX_PERIOD`."""
    first, last = names
    try:
        end = end or datetime.now(UTC)
        start = start or end - default
    except OverflowError:  # a date at the edge of the calendar
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{first} or {last} is out of range") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{first} and {last} need a time zone offset")
    if start >= end:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{first} must be before {last}")
    if end - start > MAX_PERIOD:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"the period may span at most {MAX_PERIOD.days} days; ask per month"
        )
    return start, end
