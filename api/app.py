"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from alerts.config import AlertsConfig
from alerts.contract import CaseNotice, EventNotice
from api.access import keys_router
from api.access import router as users
from api.access.auth import KEY_CACHE, KeyCache, ensure_admin, key_pepper
from api.access.deps import caller_identity, get_principal, routes_without_principal
from api.access.login import LOGIN_THROTTLE, PASSWORD_CHECKS
from api.access.throttle import LoginThrottle
from api.analysis import router as analysis
from api.cases import router as cases
from api.cases.callbacks import (
    CALLBACK_RECEIPTS,
    CALLBACK_SECRETS,
    CallbackReceipts,
    callback_secrets,
    warn_shared_secrets,
)
from api.core.db import make_engine, migrate, session_factory, writer_lock
from api.core.errors import DomainError
from api.core.secretkeys import DataKeys
from api.core.settings import ApiSettings
from api.delivery import call_reports_router
from api.delivery import router as deliveries
from api.delivery.dispatcher import DISPATCHER, Dispatcher
from api.delivery.links import LINK_KEY, evidence_link, link_key
from api.events import router as events
from api.events.retention import LOW_DISK, Throttle
from api.http.errors import domain_error
from api.http.guards import RequestGuard, validation_error
from api.http.services import Services
from api.ingest import router as ingest
from api.ingest.group_commit import COMMITTER, GroupCommitter
from api.ingest.receive import INGEST_COUNTERS, IngestCounters
from api.officers import router as officers
from api.officers.face_models import FACE_MODELS, FaceModels
from api.ops import health, metrics_router, ui
from api.ops.jobs import JOBS, Jobs
from api.ops.prometheus import METRICS, ApiMetrics, RequestMetrics
from api.projects import router as projects
from api.reports import router as briefs
from api.reports import stats_router
from api.reports.brief_file import PDF_TURNS, PdfTurns
from api.reports.closed_loop import targets_of
from api.reports.schedule import BriefScheduler
from api.sites import false_alarms_router, live_router
from api.sites import router as sites
from api.sites.config import CONFIG_CHECK, ConfigCheck
from api.sites.relay import LIVE, LiveRelay
from api.storage import open_store
from api.storage.interface import disk_full

logger = logging.getLogger(__name__)

#: Password checks (scrypt) one process runs at once; more wait their turn (api.access.login).
PASSWORD_CHECKS_AT_ONCE = 2
#: The fewest characters of an admin key chosen with ``SITEWATCH_ADMIN_KEY`` (made ones have 46).
MIN_ADMIN_KEY = 32


def create_app(
    settings: ApiSettings,
    alerts: AlertsConfig | None = None,
    *,
    dispatch: bool = True,
    config_check: ConfigCheck | None = None,
) -> FastAPI:
    """Build the API on ``settings``: migrate the database, make sure an admin key exists, mount routes.

    The app's long-lived objects are built here once, as its :class:`api.http.services.Services`
    (``services_of(app)``). A newly created admin key (no ``SITEWATCH_ADMIN_KEY`` and none stored yet) is
    left in its ``new_admin_key`` for the command to print once; it is never logged.

    Args:
        settings: database, storage and secrets.
        alerts: channels and routes of notifications; ``None``: none (notifications are only recorded).
        dispatch: run the notification dispatcher, the re-inspection sweep and the scheduled briefs while
            the app runs (:mod:`api.ops.jobs`); retention and the end of silent events run in any case.
        config_check: what the sites' workers would refuse in a configuration stored with
            ``PUT /sites/{site}/config`` (their model is ``sitewatch``'s, which ``api`` does not import:
            ``sitewatch`` passes :func:`sitewatch.remote_config.check_site_config`); ``None``: site
            configurations are not stored (503).
    """
    if settings.admin_key is not None and len(settings.admin_key) < MIN_ADMIN_KEY:
        raise ValueError(
            f"SITEWATCH_ADMIN_KEY has {len(settings.admin_key)} characters: it must have at least "
            f"{MIN_ADMIN_KEY} (unset it to have a random one made and printed once)"
        )
    private_data(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    private_data(settings)  # the files the migration made
    pepper = key_pepper(configured=settings.key_pepper, data_dir=settings.data_dir)
    alerts = alerts or AlertsConfig()
    # Projects' dates, briefs, analyses and quiet hours are local to one zone: the alerts'.
    zone = ZoneInfo(alerts.timezone)
    # SITEWATCH_FACE_KEY / SITEWATCH_PII_KEY, else face.key / pii.key in data_dir (made on the first start)
    keys = DataKeys.in_dir(settings.data_dir)
    sessions = session_factory(engine, key_pepper=pepper, zone=zone, keys=keys)
    with sessions() as session:
        new_admin_key = ensure_admin(session, settings.admin_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        yield
        jobs.stop()
        committer.close()

    # /docs is a local page (api.ops.ui.docs): FastAPI's own loads Swagger UI from a CDN.
    app = FastAPI(
        title="sitewatch central API", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        store=open_store(settings),
        zone=zone,
        write_turn=partial(writer_lock, settings.database_url),  # the busiest writers take turns (SQLite)
        key_pepper=pepper,
        new_admin_key=new_admin_key,
    )
    app.state.services = services  # the one thing on app.state: routes reach it through api.http.services
    links = partial(_evidence_link, settings.public_url, link_key(settings))
    dispatcher = Dispatcher(sessions, alerts, links=links, lock=services.write_turn) if dispatch else None
    schedule = (
        BriefScheduler(
            sessions,
            alerts.briefs,
            channels=dispatcher.channels,
            links=links,
            store=services.store,
            timezone=alerts.timezone,
            targets=targets_of(settings),
        )
        if dispatcher is not None and alerts.briefs
        else None
    )
    due_soon = any("case.due_soon" in route.topics for route in alerts.routes) and dispatch
    jobs = Jobs(
        app,
        briefs=schedule,
        sweep_cases=dispatch,
        due_soon=timedelta(hours=alerts.due_soon_hours) if due_soon else None,
    )
    metrics = ApiMetrics()
    committer = GroupCommitter(
        make_engine(settings.database_url, connections=1),
        services.store,
        on_batch=metrics.ingest_batch.observe,
        lock=services.write_turn,
        zone=zone,
    )
    owned = services.owned
    owned.put(DISPATCHER, dispatcher)
    owned.put(JOBS, jobs)
    owned.put(LINK_KEY, link_key(settings))
    owned.put(METRICS, metrics)
    owned.put(INGEST_COUNTERS, IngestCounters(ingested=metrics.ingested, disarmed=metrics.disarmed))
    owned.put(COMMITTER, committer)
    owned.put(LOW_DISK, Throttle())  # the retention passes a low disk asks for
    owned.put(KEY_CACHE, KeyCache(settings.key_cache_s))
    owned.put(CALLBACK_SECRETS, callback_secrets(alerts))  # signed case-system callbacks
    warn_shared_secrets(alerts)
    owned.put(CONFIG_CHECK, config_check)
    owned.put(CALLBACK_RECEIPTS, CallbackReceipts())
    owned.put(LOGIN_THROTTLE, LoginThrottle(sessions))
    owned.put(PASSWORD_CHECKS, asyncio.Semaphore(PASSWORD_CHECKS_AT_ONCE))
    owned.put(PDF_TURNS, PdfTurns())
    owned.put(FACE_MODELS, FaceModels())
    owned.put(
        LIVE,
        LiveRelay(
            max_viewers=settings.live_viewers,
            fps=settings.live_fps,
            width=settings.live_width,
            max_view_s=settings.live_max_s,
        ),
    )
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(  # outermost: the first to look at a request
        RequestGuard,
        multipart_limit=multipart_limit(settings),
        large_uploads=settings.large_uploads,
        upload_wait_s=settings.upload_wait_s,
        body_idle_s=settings.body_timeout_s,
        identify=caller_identity(app),
    )
    mount_routes(app)
    document_webhooks(app)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(OSError, _full_disk)
    app.add_exception_handler(OperationalError, _full_disk)
    return app


#: The routes that answer without a principal, by endpoint name: health for load balancers, log-in, evidence
#: behind a signed link (the signature is the credential), and the web UI's page, scripts and operations'
#: page, which hold no one's data. Every other route needs a key or a session: :func:`mount_routes` puts
#: the API's routers behind one dependency that finds the caller, and refuses to build an app with
#: any other route left open.
OPEN_ROUTES = frozenset({"health", "log_in", "evidence", "home", "kinds_js", "docs", "openapi", "ui"})


def mount_routes(app: FastAPI) -> None:
    """Mount every router: the API's (each under :data:`api.http.params.API_PREFIX`) behind
    :func:`api.access.deps.get_principal`, then the open ones of :data:`OPEN_ROUTES`.

    Raises:
        RuntimeError: a route answers without a principal and is not in :data:`OPEN_ROUTES`.
    """
    caller = [Depends(get_principal)]
    authenticated = APIRouter(dependencies=caller)
    for router in (
        ingest.router,
        events.router,
        cases.router,
        officers.router,
        stats_router.router,
        sites.router,
        projects.router,
        false_alarms_router.router,
        live_router.router,
        users.router,
        keys_router.router,
        deliveries.router,
        call_reports_router.router,
        briefs.router,
        analysis.router,
        ui.router,
    ):
        authenticated.include_router(router)
    app.include_router(health.router)
    app.include_router(metrics_router.router, dependencies=caller)
    app.include_router(authenticated)
    for router in (users.open_router, deliveries.open_router, ui.open_router):
        app.include_router(router)
    ui.mount_static(app)
    if stray := sorted(set(routes_without_principal(app)) - OPEN_ROUTES):
        raise RuntimeError(f"routes without a principal that OPEN_ROUTES does not name: {', '.join(stray)}")


def private_data(settings: ApiSettings) -> None:
    """Keep the data folder (0700) and a SQLite database with its journal files (0600) to the owner."""
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    database = Path(url.database)
    database.parent.mkdir(parents=True, exist_ok=True)
    if not database.exists():  # made here, owner-only, before SQLite makes it with the umask's mode
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (
        database,
        *(database.with_name(database.name + end) for end in ("-wal", "-shm", "-journal")),
    ):
        if path.exists():
            path.chmod(0o600)


def _evidence_link(public_url: str, key: bytes, digest: str, ttl: float) -> str:
    """A signed link to the evidence file ``digest``, valid ``ttl`` seconds."""
    return evidence_link(public_url, key, digest, ttl_s=ttl)


def multipart_limit(settings: ApiSettings) -> int:
    """The most bytes of a ``multipart/form-data`` body: an ingest's three files at ``max_upload_mb`` each,
    its event part (1 MiB) and room for boundaries and part headers (1 MiB)."""
    return int(3 * settings.max_upload_mb * 2**20) + 2 * 2**20


async def _full_disk(request: Request, exc: Exception) -> JSONResponse:
    """507 with the reason when a write failed because a disk is full; any other error goes on (500)."""
    if not disk_full(exc):
        raise exc
    logger.error("refused %s %s: the disk is full (%s)", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the server's disk is full: nothing was stored; retry later"},
        status_code=status.HTTP_507_INSUFFICIENT_STORAGE,
    )


def document_webhooks(app: FastAPI) -> None:
    """List the webhook contract under ``webhooks`` in the OpenAPI document (what receivers implement)."""

    @app.webhooks.post("case-notice", operation_id="webhook_case_notice")
    def case_notice(body: CaseNotice) -> None:
        """``case.created`` and ``case.updated`` with ``X-Sitewatch-Timestamp`` and ``Idempotency-Key``,
        signed with the receiver's URL and the body (``X-Sitewatch-Signature: sha256=<hex HMAC-SHA256 of
        "<timestamp>.<key>.<url>." and the raw body>``, ``<url>`` the channel's ``url``: check it with your
        own); refuse a timestamp over 5 minutes old. Answer 2xx, with
        ``{"case_number": "..."}`` to a ``case.created``."""

    @app.webhooks.post("event-notice", operation_id="webhook_event_notice")
    def event_notice(body: EventNotice) -> None:
        """``event.started``, ``event.ended`` and ``event.confirmed``, signed the same way."""


def app_from_env(config_check: ConfigCheck | None = None) -> FastAPI:
    """The app of the environment's settings, for each process of ``sitewatch api --workers N`` (its alerts
    come as ``SITEWATCH_ALERTS_JSON`` from the parent; ``sitewatch`` calls it with its configuration
    check, see :func:`create_app`)."""
    alerts = os.environ.get("SITEWATCH_ALERTS_JSON")
    return create_app(
        ApiSettings.from_env(),
        AlertsConfig.model_validate_json(alerts) if alerts else None,
        config_check=config_check,
    )
