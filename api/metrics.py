"""Prometheus metrics of one API instance (its own registry, so several apps can live in one process)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select

from api.models import Delivery, Event, EvidenceFile, Notification


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
        self.events = Gauge(
            "sitewatch_events", "Stored events, by status", ["status"], registry=self.registry
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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count and time every request by its route template (not its raw path: ids would explode)."""
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        self.requests.labels(request.method, template, str(response.status_code)).inc()
        self.latency.labels(template).observe(time.perf_counter() - start)
        return response

    def refresh(self, request: Request) -> None:
        """Read the gauges that come from the database and the disk (at scrape time)."""
        with request.app.state.sessions() as session:
            for status, count in session.execute(select(Event.status, func.count()).group_by(Event.status)):
                self.events.labels(status).set(count)
            self.evidence_bytes.set(
                session.scalar(select(func.coalesce(func.sum(EvidenceFile.size), 0))) or 0
            )
            self.outbox.set(session.scalar(select(func.count()).where(Notification.routed.is_(False))) or 0)
            for status, count in session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ):
                self.deliveries.labels(status).set(count)
        free = request.app.state.store.free_mb()
        if free is not None:
            self.disk_free_bytes.set(free * 2**20)
