"""``sitewatch run``: the whole product on one box. The API (with the dispatcher) serves on loopback, the
worker watches the configured cameras and hands its events to the API in-process, and, when configured,
a demo case-management receiver takes the webhooks.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from alerts.demo_receiver import DemoCaseSystem
from api.access.auth import create_key, revoke_key
from api.access.users import create_user
from api.app import create_app
from api.cases.service import set_policy
from api.core.secretkeys import FaceKeyError
from api.core.settings import ApiSettings
from api.delivery.dispatcher import DISPATCHER
from api.events.schemas import IngestEventIn
from api.http.services import services_of
from api.ingest.prepare import IngestError
from api.ingest.service import ingest_update
from api.ingest.silence import end_silent_events
from api.models import ApiKey, User
from api.officers.service import gallery, record_sighting
from api.ops.serve import server_config
from api.sites.false_alarm_memory import active_entries
from api.sites.schemas import CameraHealthIn, FalseAlarmPublic
from api.sites.service import ensure_site, record_health
from detector.face_gallery import Gallery
from sitewatch.config import Config
from sitewatch.false_alarms import FalseAlarmSync
from sitewatch.gallery_sync import apply_gallery
from sitewatch.live import LiveUploader
from sitewatch.remote_config import check_site_config
from streams.events import EventUpdate
from streams.memory import FalseAlarmMemory
from streams.outbox import RESTART_REASON
from streams.worker import Worker

logger = logging.getLogger(__name__)

HEADER = f"{'time':<8}  {'kind':<14}  {'phase':<6}  {'event':<8}  {'camera':<10}  {'people':>6}  {'score':>5}"


class ApiSink:
    """The worker's sink in one process: each update is ingested straight into the API's database (the
    same code path and idempotency as the HTTP route), then the dispatcher is woken and a line printed."""

    def __init__(self, app: FastAPI, *, echo: bool = True) -> None:
        self.app = app
        self.echo = echo
        self.stored = 0

    def emit(self, update: EventUpdate) -> None:
        """Ingest one update with its evidence."""
        files: dict[str, bytes] = {}
        if update.evidence is not None:
            files = {"snapshot": update.evidence.snapshot, "annotated": update.evidence.annotated}
            if update.evidence.clip:
                files["clip"] = update.evidence.clip
        try:
            with services_of(self.app).sessions() as session:
                ingest_update(
                    session,
                    update=IngestEventIn.model_validate(update.to_json()),
                    files=files,
                    store=services_of(self.app).store,
                    actor="worker",
                )
        except (IngestError, ValueError):
            logger.exception("event update %s/%d not stored", update.event_id, update.seq)
            return
        self.stored += 1
        if (dispatcher := services_of(self.app).get(DISPATCHER)) is not None:
            dispatcher.wake()
        if self.echo:
            when = datetime.fromtimestamp(update.updated_at).strftime("%H:%M:%S")
            print(  # noqa: T201 - the console output of `sitewatch run`
                f"{when:<8}  {update.kind.value:<14}  {update.phase.value:<6}  {update.event_id[:8]}  "
                f"{update.camera_id or '-':<10}  {update.people_count:>6}  {update.score:>5.2f}",
                flush=True,
            )

    def close(self) -> None:
        """Nothing is buffered."""


@dataclasses.dataclass
class AllInOne:
    """The parts of ``sitewatch run`` and their start and stop order."""

    config: Config
    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        settings = ApiSettings.from_env(data_dir=self.config.data_dir)
        if settings.public_url == "http://127.0.0.1:8000":  # links must point where this box serves
            settings = settings.model_copy(update={"public_url": f"http://{self.host}:{self.port}"})
        self.settings = settings
        demo = self.config.alerts.demo_receiver
        try:
            self.receiver = DemoCaseSystem(demo.secret, port=demo.port) if demo is not None else None
        except OSError as exc:
            assert demo is not None
            raise RuntimeError(
                f"alerts.demo_receiver.port: the demo case system cannot listen on port {demo.port} ({exc})"
            ) from None
        self.app = create_app(settings, alerts=self.config.alerts, config_check=check_site_config)
        self._apply_case_policies()
        self._end_previous_run()
        self._connect_receiver()
        self.new_password = self._first_user()
        self.sink = ApiSink(self.app)
        self.server = uvicorn.Server(server_config(self.app, host=self.host, port=self.port, lifespan="on"))
        self._thread = threading.Thread(target=self.server.run, name="api", daemon=True)
        self._gallery: Gallery | None = None
        self._closing = threading.Event()

    def _apply_case_policies(self) -> None:
        with services_of(self.app).sessions() as session:
            ensure_site(session, site_id=self.config.site.id)
            for kind, rule in self.config.case_policies.items():
                set_policy(
                    session,
                    site_id=self.config.site.id,
                    kind=kind,
                    trigger=rule.trigger,
                    deadline_hours=rule.deadline_hours,
                )
            session.commit()

    def _end_previous_run(self) -> None:
        """End the site's events a previous run left open: its worker, the only edge of this site, was
        killed before it could end them (a clean stop ends them itself)."""
        with services_of(self.app).sessions() as session:
            end_silent_events(
                session,
                store=services_of(self.app).store,
                silence=timedelta(0),
                reason=RESTART_REASON,
                site_id=self.config.site.id,
                edge_alive_counts=False,
            )

    def _connect_receiver(self) -> None:
        """Give the demo case system an ``integration`` key of this site for its signed callbacks: a new
        one each start (the last start's is revoked; neither is ever shown)."""
        if self.receiver is None:
            return
        name = "demo case system"
        with services_of(self.app).sessions() as session:
            for old in session.scalars(
                select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
            ):
                revoke_key(session, key_id=old)
            session.commit()
            key = create_key(session, name=name, role="integration", site_ids=[self.config.site.id])
        self.receiver.connect(f"http://{self.host}:{self.port}", key)

    def _first_user(self) -> str | None:
        """On the first start, a supervisor account for the web UI; its password is returned to be shown
        once (only its hash is stored). ``SITEWATCH_DEMO_PASSWORD`` chooses it."""
        with services_of(self.app).sessions() as session:
            if session.scalar(select(func.count()).select_from(User)):
                return None
            password = os.environ.get("SITEWATCH_DEMO_PASSWORD") or secrets.token_urlsafe(12)
            create_user(session, username="supervisor", password=password, role="supervisor")
            return password

    def start_api(self, timeout_s: float = 30.0) -> None:
        """Serve the API (and run its dispatcher) in a background thread; wait until it listens."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API could not start on {self.host}:{self.port} (is the port taken?)")
            time.sleep(0.05)

    @property
    def gallery(self) -> Gallery | None:
        """With ``officers.from_api``: the officers enrolled in this API (web UI), refreshed each minute."""
        if not self.config.officers.from_api:
            return None
        if self._gallery is None:
            self._gallery = Gallery()
            self._refresh_gallery()
        return self._gallery

    def _refresh_gallery(self) -> None:
        if self._gallery is None or self._closing.is_set():
            return
        try:
            with services_of(self.app).sessions() as session:
                apply_gallery(self._gallery, gallery(session, site_id=self.config.site.id))
        except FaceKeyError as exc:  # no key: no enrolled officers can be read
            logger.warning("officer gallery not loaded: %s", exc)
        timer = threading.Timer(60.0, self._refresh_gallery)
        timer.daemon = True
        timer.start()

    def false_alarm_sync(self) -> FalseAlarmSync | None:
        """With ``false_alarms.enabled``: the false-alarm memory read from this API's database, refreshed
        every ``false_alarms.refresh_min`` once started (the caller starts and stops it)."""
        settings = self.config.false_alarms
        if not settings.enabled:
            return None
        memory = FalseAlarmMemory(settings.params())
        return FalseAlarmSync(memory, self._false_alarms, refresh_s=settings.refresh_min * 60.0)

    def _false_alarms(self) -> list[dict[str, Any]]:
        with services_of(self.app).sessions() as session:
            rows = active_entries(session, site_id=self.config.site.id)
            return [FalseAlarmPublic.model_validate(r).model_dump(mode="json") for r in rows]

    def record_sighting(self, at: float, officer: str, camera_id: str) -> None:
        """Extend the presence timeline, as the sightings route would."""
        with services_of(self.app).sessions() as session:
            record_sighting(
                session,
                site_id=self.config.site.id,
                officer=officer,
                camera_id=camera_id,
                at=datetime.fromtimestamp(at, UTC),
            )

    def live_uploader(self, worker: Worker) -> LiveUploader:
        """The worker's live view, sent to this box's own API over loopback as an edge box would send it,
        with an ``edge`` key of the site made at each start (the last start's is revoked; never shown)."""
        name = "live view of this box"
        with services_of(self.app).sessions() as session:
            for old in session.scalars(
                select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
            ):
                revoke_key(session, key_id=old)
            session.commit()
            key = create_key(session, name=name, role="edge", site_ids=[self.config.site.id])
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return LiveUploader.of_worker(
            worker, site_id=self.config.site.id, api_url=f"http://{host}:{self.port}", api_key=key
        )

    def record_health(self, report: list[dict[str, Any]]) -> None:
        """Store the worker's camera health, as the ingest route would."""
        with services_of(self.app).sessions() as session:
            record_health(session, items=[CameraHealthIn.model_validate(item) for item in report])

    def banner(self) -> list[str]:
        """What to print once everything is up: where to look, and the admin key if it is new."""
        base = f"http://{self.host}:{self.port}"
        lines = [
            f"sitewatch: site {self.config.site.id}, cameras {', '.join(self.config.cameras)}",
            f"  web UI      {base}/",
            f"  API docs    {base}/docs  (health: {base}/healthz)",
            f"  data        {self.settings.data_dir}",
        ]
        if self.new_password:
            lines.append(f"  web log-in  supervisor / {self.new_password}   (shown once)")
        key = services_of(self.app).new_admin_key
        if key:
            lines.append(f"  admin key   {key}   (shown once: store it now)")
        elif self.settings.admin_key:
            lines.append("  admin key   from SITEWATCH_ADMIN_KEY")
        else:
            lines.append("  admin key   printed at the first start (set SITEWATCH_ADMIN_KEY to choose one)")
        if self.receiver is not None:
            lines.append(f"  demo case system receiving webhooks at {self.receiver.url}")
        return lines

    def stop(self) -> None:
        """Stop the API (and its dispatcher), then the demo receiver."""
        self._closing.set()
        self.server.should_exit = True
        self._thread.join(timeout=30)
        services_of(self.app).engine.dispose()
        if self.receiver is not None:
            self.receiver.close()
