"""Prometheus metrics of one API instance (its own registry, so several apps can live in one process)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.services import Slot, services_of
from api.models import CameraHealth, Delivery, Event, EvidenceFile, Notification
from api.sites.false_alarm_memory import suppression_totals


class SuppressionCounter(Collector):
    """``sitewatch_false_alarm_suppressions_total{site,camera,kind}``: the looks edge boxes suppressed by
    the false-alarm memory, as the database holds them at the last scrape (a counter: the API adds the
    counts of the box's runs up, see ``api.sites.false_alarm_memory.add_suppressions``)."""

    def __init__(self) -> None:
        self.values: list[tuple[str, str, str, int]] = []

    def collect(self) -> Iterator[CounterMetricFamily]:
        """The counter family with one sample per site, camera and kind."""
        family = CounterMetricFamily(
            "sitewatch_false_alarm_suppressions",
            "Violating looks suppressed by the false-alarm memory on the edge",
            labels=["site", "camera", "kind"],
        )
        for site, camera, kind, value in self.values:
            family.add_metric([site, camera, kind], value)
        yield family


class SiteView(Collector):
    """What a caller scoped to some sites may see of a registry: only the samples whose ``site`` label is
    one of ``site_ids``. Series without a ``site`` label (requests, ingest results, evidence size, the
    outbox) add up every site, so they are left out."""

    def __init__(self, registry: Collector, site_ids: Iterable[str]) -> None:
        self.registry = registry
        self.site_ids = frozenset(site_ids)

    def collect(self) -> Iterator[Metric]:
        """The registry's families, each with the samples of these sites; families left empty are
        dropped."""
        for family in self.registry.collect():
            samples = [s for s in family.samples if s.labels.get("site") in self.site_ids]
            if samples:
                kept = Metric(family.name, family.documentation, family.type, family.unit)
                kept.samples = samples
                yield kept


class ApiMetrics:
    """Request counts and latencies, ingest results, stored events and evidence size."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sitewatch_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "sitewatch_http_request_seconds", "HTTP request time", ["route"], registry=self.registry
        )
        self.ingested = Counter(
            "sitewatch_ingest_updates",
            "Event updates received, by result",
            ["result"],
            registry=self.registry,
        )
        self.disarmed = Counter(
            "sitewatch_disarmed_violations",
            "Violations acknowledged but not stored: their site's project was not active when they started",
            ["site", "kind"],
            registry=self.registry,
        )
        self.ingest_batch = Histogram(
            "sitewatch_ingest_batch_updates",
            "Event updates stored per transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.events = Gauge(
            "sitewatch_events", "Stored events, by status", ["status"], registry=self.registry
        )
        self.site_events = Gauge(
            "sitewatch_site_events",
            "Stored events, by site and status",
            ["site", "status"],
            registry=self.registry,
        )
        self.evidence_bytes = Gauge("sitewatch_evidence_bytes", "Stored evidence", registry=self.registry)
        self.disk_free_bytes = Gauge(
            "sitewatch_disk_free_bytes", "Free disk under the evidence store", registry=self.registry
        )
        self.outbox = Gauge(
            "sitewatch_outbox_notifications",
            "Notifications not yet routed to channels",
            registry=self.registry,
        )
        self.deliveries = Gauge(
            "sitewatch_deliveries", "Deliveries to channels, by status", ["status"], registry=self.registry
        )
        self.cameras = Gauge(
            "sitewatch_site_cameras",
            "Cameras by site and state: online, offline (as reported) or stale (no report for longer than "
            "SITEWATCH_CAMERA_STALE_S, whatever the last one said)",
            ["site", "state"],
            registry=self.registry,
        )
        self.suppressions = SuppressionCounter()
        self.registry.register(self.suppressions)

    def exposition(self, request: Request, *, site_ids: Iterable[str] = ()) -> bytes:
        """The metrics in Prometheus' text format, the gauges read now (:meth:`refresh`); ``site_ids``: of a
        caller scoped to those sites, who gets only the series labelled with one of them (:class:`SiteView`);
        none: every series."""
        self.refresh(request)
        if site_ids := tuple(site_ids):
            return generate_latest(SiteView(self.registry, site_ids))
        return generate_latest(self.registry)

    def refresh(self, request: Request) -> None:
        """Read the gauges that come from the database and the disk (at scrape time)."""
        with services_of(request.app).sessions() as session:
            for status, count in session.execute(select(Event.status, func.count()).group_by(Event.status)):
                self.events.labels(status).set(count)
            self.site_events.clear()  # a site whose events were all deleted leaves no stale series
            for site, status, count in session.execute(
                select(Event.site_id, Event.status, func.count()).group_by(Event.site_id, Event.status)
            ):
                self.site_events.labels(site, status).set(count)
            self.evidence_bytes.set(
                session.scalar(select(func.coalesce(func.sum(EvidenceFile.size), 0))) or 0
            )
            self.outbox.set(session.scalar(select(func.count()).where(Notification.routed.is_(False))) or 0)
            for status, count in session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ):
                self.deliveries.labels(status).set(count)
            self.read_cameras(session, stale_s=services_of(request.app).settings.camera_stale_s)
            self.suppressions.values = [
                (site, camera, kind, count)
                for site, camera, stored in session.execute(
                    select(CameraHealth.site_id, CameraHealth.camera_id, CameraHealth.suppression_counts)
                )
                for kind, count in sorted(suppression_totals(stored).items())
            ]
        free = services_of(request.app).store.free_mb()
        if free is not None:
            self.disk_free_bytes.set(free * 2**20)

    def read_cameras(self, session: Session, *, stale_s: float) -> None:
        """Count each site's cameras online, offline and stale now (every state of a site with cameras has
        a sample, 0 included, so that a camera coming back shows as a change, not as a series that ends)."""
        stale = datetime.now(UTC) - timedelta(seconds=stale_s)
        state = case(
            (CameraHealth.reported_at < stale, "stale"),
            (CameraHealth.online.is_(True), "online"),
            else_="offline",
        )
        counts: dict[str, dict[str, int]] = {}
        for site, name, count in session.execute(
            select(CameraHealth.site_id, state, func.count()).group_by(CameraHealth.site_id, state)
        ):
            counts.setdefault(site, dict.fromkeys(CAMERA_STATES, 0))[name] = count
        self.cameras.clear()  # a site whose cameras are gone leaves no series behind
        for site, by_state in counts.items():
            for name, count in by_state.items():
                self.cameras.labels(site, name).set(count)


#: The states of :attr:`ApiMetrics.cameras`.
CAMERA_STATES = ("online", "offline", "stale")


class RequestMetrics:
    """ASGI middleware: count and time every request by its route template (not its raw path: ids would
    explode the series). Plain ASGI rather than ``BaseHTTPMiddleware``, which copies every request body
    through an extra queue: a measurable cost on 100 KB uploads."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # The series of each (method, route, status) and route, found once: prometheus_client's labels()
        # takes a lock and builds keys on every call.
        self._counters: dict[tuple[str, str, str], Any] = {}
        self._timers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], template, str(status))
            if (counter := self._counters.get(key)) is None:
                counter = self._counters[key] = self.metrics.requests.labels(*key)
            if (timer := self._timers.get(template)) is None:
                timer = self._timers[template] = self.metrics.latency.labels(template)
            counter.inc()
            timer.observe(time.perf_counter() - start)


#: The app's metrics.
METRICS: Slot[ApiMetrics] = Slot("the API's metrics")
