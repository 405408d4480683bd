"""``sitewatch bench api``: ingest throughput and listing latency of the API on a given database."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from fastapi import FastAPI
from sqlalchemy import insert, text
from tqdm import tqdm

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Event, Site
from detector.evaluation.figures import figures
from sitewatch.bench.api_load import KINDS, Load, noise_jpeg
from sitewatch.bench.proc import tree_cpu_s


@dataclass(frozen=True, slots=True)
class ApiBench:
    """Attributes:
    database: the SQLAlchemy dialect measured.
    workers: API server processes.
    ingest_per_s: event updates (each with a snapshot of ``snapshot_kb``) stored per second.
    ingest_p95_ms: 95th percentile of one ingest request.
    stored_events: events in the database while listing.
    list_p95_ms: 95th percentile of one filtered listing page (50 events).
    list_median_ms: median of the same.
    server_cpu_ms: CPU time of the API's processes per event ingested (``None`` where ``/proc`` is
        missing): where to look first when the rate falls short.
    client_cpu_ms: CPU time of the load generator per event; it shares the machine's cores with the server.
    """

    database: str
    snapshot_kb: int
    clients: int
    workers: int
    ingest_per_s: float
    ingest_p95_ms: float
    stored_events: int
    list_p95_ms: float
    list_median_ms: float
    server_cpu_ms: float | None
    client_cpu_ms: float

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


def _serve(folder: Path, url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``sitewatch api`` in its own processes, as deployed: the clients here must not share its cores' GIL."""
    env = {
        **os.environ,
        "SITEWATCH_DATA_DIR": str(folder),
        "SITEWATCH_DATABASE_URL": url,
        "SITEWATCH_ADMIN_KEY": "sw_bench-" + secrets.token_urlsafe(24),
    }
    command = [sys.executable, "-m", "sitewatch.cli", "api", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the API exited with {server.returncode} before serving")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 600:
                _settle(server.pid, workers)
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the API did not answer within 60 s")


def _settle(pid: int, workers: int, timeout: float = 30.0) -> None:
    """Wait until every server process has started (they have stopped using the CPU).

    The first process to start answers the health check; clients that connected then would all be
    accepted by it and keep their connections to it for the whole run, the others idle.
    """
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if workers == 1:
        return
    if not children.exists():  # not Linux: give them time
        time.sleep(5)
        return

    deadline = time.time() + timeout
    last = tree_cpu_s(pid) or 0.0
    while time.time() < deadline:
        time.sleep(0.5)
        now = tree_cpu_s(pid) or 0.0
        if len(children.read_text().split()) >= workers and now - last < 0.05:
            return
        last = now


def _seed(app: FastAPI, count: int, site: str) -> None:
    """Insert ``count`` events straight into the table (the listing is what is measured)."""
    if count <= 0:
        return
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = [
        {
            "id": f"seed-{i:08d}",
            "site_id": site,
            "camera_id": f"cam-{i % 8}",
            "kind": KINDS[i % 3],
            "status": "ended",
            "started_at": now - timedelta(minutes=i),
            "updated_at": now - timedelta(minutes=i),
            "last_seq": 1,
            "score": 0.8,
            "people_count": 1,
            # Not in step with the kind: every kind has events of every review status.
            "review_status": ("pending", "confirmed", "false_alarm")[(i // 3) % 3],
            "details": {},
        }
        for i in range(count)
    ]
    with services_of(app).sessions() as session:
        session.execute(insert(Event), rows)
        session.commit()
        # Statistics for the planner, as a database that grew to this size would have (PostgreSQL's
        # autovacuum analyses a table after 10 % of it changed). Right after a bulk load it has none, and
        # plans the listing for an empty table.
        session.execute(text("ANALYZE events"))
        session.commit()


def bench_api(
    database_url: str | None,
    *,
    events: int,
    stored: int,
    clients: int,
    port: int,
    workers: int = 1,
    progress: bool = True,
) -> ApiBench:
    """Ingest ``events`` updates over HTTP from ``clients`` threads into an API of ``workers`` processes,
    then list at ``stored`` events."""
    folder = Path(tempfile.mkdtemp(prefix="sitewatch-bench-"))
    url = database_url or f"sqlite:///{folder / 'bench.db'}"
    app = create_app(ApiSettings(database_url=url, data_dir=folder, admin_key=None))
    site = f"bench-{uuid.uuid4().hex[:6]}"
    with services_of(app).sessions() as session:
        session.add(Site(id=site, created_at=datetime.now(UTC)))
        session.commit()
        key = create_key(session, name="bench edge", role="edge", site_ids=[site])
        reader = create_key(session, name="bench reader", role="viewer", site_ids=[site])
    server = _serve(folder, url, port, workers)
    base = f"http://127.0.0.1:{port}"
    rng = np.random.default_rng(0)
    snapshot = noise_jpeg(rng, 100 * 1024)
    bar = tqdm(total=events, desc=f"ingest ({engine_name(url)})", unit="event", disable=not progress)

    load = Load(port=port, key=key, site=site, events=events, clients=clients, snapshot=snapshot, bar=bar)
    try:
        start, server_cpu, client_cpu = time.perf_counter(), tree_cpu_s(server.pid), time.process_time()
        latencies = asyncio.run(load.run())
        ingest_s = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        server_end = tree_cpu_s(server.pid)
        server_cpu = None if server_cpu is None or server_end is None else server_end - server_cpu
        bar.close()
        _seed(app, stored - events, site)
        listing: list[float] = []
        since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
        with httpx.Client(headers={"Authorization": f"Bearer {reader}"}, timeout=30) as listing_client:
            for i in tqdm(range(200), desc="list", unit="page", disable=not progress):
                params: dict[str, str | int] = {
                    "site_id": site,
                    "kind": KINDS[i % 3],
                    "review_status": "pending",
                    "since": since,
                    "limit": 50,
                }
                t0 = time.perf_counter()
                listing_client.get(f"{base}/api/v1/events", params=params).raise_for_status()
                listing.append((time.perf_counter() - t0) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
        services_of(app).engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)  # 100 KB per event ingested
    return ApiBench(
        database=engine_name(url),
        snapshot_kb=100,
        clients=clients,
        workers=workers,
        ingest_per_s=events / ingest_s,
        ingest_p95_ms=statistics.quantiles(latencies, n=20)[-1],
        stored_events=stored,
        list_p95_ms=statistics.quantiles(listing, n=20)[-1],
        list_median_ms=statistics.median(listing),
        server_cpu_ms=None if server_cpu is None else server_cpu / events * 1000,
        client_cpu_ms=client_cpu / events * 1000,
    )


def engine_name(url: str) -> str:
    """``sqlite`` or ``postgresql`` from a URL."""
    return url.split(":", 1)[0].split("+", 1)[0]
