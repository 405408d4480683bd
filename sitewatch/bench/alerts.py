"""``sitewatch bench alerts``: dispatcher throughput to a fast receiver, and the time from an event's
start on the edge to the case system holding the "create case" request."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, insert, select
from tqdm import tqdm

from alerts.config import AlertsConfig
from alerts.demo_receiver import DemoCaseSystem
from api.access.auth import create_key
from api.app import create_app
from api.cases.service import set_policy
from api.core.settings import ApiSettings
from api.delivery.dispatcher import Dispatcher
from api.http.services import services_of
from api.models import Delivery, Event, Notification, Site
from api.sites.service import ensure_site
from detector.evaluation.figures import figures
from streams.events import EventKind, EventUpdate, Evidence
from streams.outbox import Outbox
from streams.sinks import HttpSink

SECRET = "bench-webhook-secret"


@dataclass(frozen=True, slots=True)
class AlertsBench:
    """Attributes:
    deliveries: notifications delivered in the throughput run.
    deliveries_per_s: their rate to a receiver in another process.
    latency_median_ms: edge event start to the receiver holding "create case", median over ``events``.
    latency_p95_ms: the same, 95th percentile.
    """

    database: str
    deliveries: int
    concurrency: int
    deliveries_per_s: float
    events: int
    latency_median_ms: float
    latency_p95_ms: float

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


async def fast_receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A receiver that takes every request at once (an ASGI app, served by uvicorn): what the dispatcher's
    rate is measured against, so that the receiver's own speed does not set the figure."""
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the body through
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"case_number": "FAST"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _receiver_process(port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "sitewatch.bench.alerts:fast_receiver",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    env = dict(os.environ)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the benchmark receiver did not start")


def throughput(url: str, *, count: int, concurrency: int, port: int, progress: bool) -> float:
    """Deliveries per second of ``count`` event notifications to a fast receiver in its own process."""
    folder = Path(tempfile.mkdtemp(prefix="sitewatch-bench-alerts-"))
    app = create_app(ApiSettings(database_url=url, data_dir=folder), dispatch=False)
    now = datetime.now(UTC)
    site = f"bench-{uuid.uuid4().hex[:6]}"
    ids = [f"bench-{uuid.uuid4().hex}" for _ in range(count)]
    with services_of(app).sessions() as session:
        session.add(Site(id=site, created_at=now))
        session.flush()
        session.execute(
            insert(Event),
            [
                {"id": i, "site_id": site, "camera_id": "gate", "kind": "no_helmet", "status": "open",
                 "started_at": now, "updated_at": now, "last_seq": 0, "details": {}}
                for i in ids
            ],
        )  # fmt: skip
        session.execute(
            insert(Notification),
            [
                {"topic": "event.started", "site_id": site, "kind": "no_helmet", "camera_id": "gate",
                 "event_id": i, "created_at": now, "routed": False}
                for i in ids
            ],
        )  # fmt: skip
        session.commit()
    receiver = _receiver_process(port)
    channel = {"type": "webhook", "url": f"http://127.0.0.1:{port}/cases", "secret": SECRET}
    config = AlertsConfig.model_validate(
        {
            "channels": {"cases": channel | {"concurrency": concurrency}},
            "routes": [{"channels": ["cases"], "topics": ["event.started"]}],
            "poll_s": 0.02,
        }
    )
    dispatcher = Dispatcher(
        services_of(app).sessions, config, links=lambda digest, ttl: f"http://api/{digest}"
    )
    bar = tqdm(total=count, desc="deliveries", unit="msg", disable=not progress)
    try:
        start = time.perf_counter()
        dispatcher.start()
        done = 0
        while done < count:
            time.sleep(0.05)
            with services_of(app).sessions() as session:
                now_done = session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")
                )
            bar.update((now_done or 0) - done)
            done = now_done or 0
        elapsed = time.perf_counter() - start
    finally:
        bar.close()
        dispatcher.stop()
        receiver.terminate()
        receiver.wait(timeout=10)
        services_of(app).engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return count / elapsed


class _TimedReceiver(DemoCaseSystem):
    """The demo case system, noting when each event's first case notice arrived."""

    def __init__(self, secret: str, *, echo: bool) -> None:
        self.arrived: dict[str, float] = {}
        super().__init__(secret, echo=echo)

    def handle(
        self, raw: bytes, signature: str | None, key: str | None, timestamp: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Take the request, then note the time for its events."""
        status, answer = super().handle(raw, signature, key, timestamp)
        moment = time.time()
        body = json.loads(raw)
        for event in body.get("events", []):
            self.arrived.setdefault(event["id"], moment)
        return status, answer


def latency(url: str, *, events: int, port: int, progress: bool) -> list[float]:
    """Milliseconds from an edge event's start to the receiver holding its "create case", ``events`` times:
    HTTP sink with its outbox, the API over loopback, the dispatcher, a signed webhook."""
    folder = Path(tempfile.mkdtemp(prefix="sitewatch-bench-latency-"))
    receiver = _TimedReceiver(SECRET, echo=False)
    arrived = receiver.arrived
    config = AlertsConfig.model_validate(
        {"channels": {"cases": {"type": "webhook", "url": receiver.url, "secret": SECRET}},
         "routes": [{"channels": ["cases"]}], "poll_s": 0.05}
    )  # fmt: skip
    app = create_app(ApiSettings(database_url=url, data_dir=folder), alerts=config)
    with services_of(app).sessions() as session:
        ensure_site(session, site_id="bench")
        set_policy(session, site_id="bench", kind="no_helmet", trigger="on_start", deadline_hours=24)
        session.commit()
        key = create_key(session, name="bench edge", role="edge", site_ids=["bench"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    sink = HttpSink(f"http://127.0.0.1:{port}", key, Outbox(folder / "outbox.sqlite"))
    jpeg = (Path(__file__).resolve().parents[2] / "configs" / "demo" / "images" / "site-1.jpg").read_bytes()
    results: list[float] = []
    try:
        for i in tqdm(range(events), desc="event to case system", unit="event", disable=not progress):
            start = time.time()
            update = EventUpdate.begin(
                EventKind.NO_HELMET, "bench", f"cam-{i}", started_at=start, now=start, score=0.9,
                people_count=1, evidence=Evidence(jpeg, jpeg),
            )  # fmt: skip
            sink.emit(update)
            deadline = start + 10
            while update.event_id not in arrived and time.time() < deadline:
                time.sleep(0.002)
            if update.event_id in arrived:
                results.append((arrived[update.event_id] - start) * 1000)
    finally:
        sink.close()
        server.should_exit = True
        thread.join(timeout=10)
        receiver.close()
        services_of(app).engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return results


def bench_alerts(
    database_url: str | None,
    *,
    deliveries: int,
    concurrency: int,
    events: int,
    port: int,
    progress: bool = True,
) -> AlertsBench:
    """Both measurements on one database (SQLite in a temporary folder by default)."""
    with tempfile.TemporaryDirectory(prefix="sitewatch-bench-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        rate = throughput(url, count=deliveries, concurrency=concurrency, port=port, progress=progress)
        times = latency(url, events=events, port=port + 1, progress=progress)
    return AlertsBench(
        database=url.split(":", 1)[0].split("+", 1)[0],
        deliveries=deliveries,
        concurrency=concurrency,
        deliveries_per_s=rate,
        events=len(times),
        latency_median_ms=statistics.median(times) if times else float("nan"),
        latency_p95_ms=statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else float("nan"),
    )
