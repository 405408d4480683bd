"""An edge worker and a central API as two processes on loopback (``sitewatch worker`` and
``sitewatch api``): the API is killed for a while and started again; every event update the worker queued
arrives exactly once, with its evidence."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.streams.rtsp import free_port
from tests.streams.test_durability import edge_config, pending, start_worker
from tests.waiting import wait_for

ADMIN_KEY = "sw_test-central-admin-0123456789abcdefghijk"


def start_api(port: int, data: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sitewatch.cli", "api", "--port", str(port), "--data-dir", str(data)],
        cwd=ROOT,
        env={**os.environ, "SITEWATCH_ADMIN_KEY": ADMIN_KEY},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ingested(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as connection:
        return [(str(e), int(s)) for e, s in connection.execute("SELECT event_id, seq FROM ingested_updates")]


def test_every_update_arrives_once_across_an_api_restart(tmp_path: Path) -> None:
    port, central = free_port(), tmp_path / "central"
    base = f"http://127.0.0.1:{port}"
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    api = start_api(port, central, api_log)
    worker = None
    try:
        wait_for(lambda: up(base), 60, "the central API")
        created = httpx.post(
            f"{base}/api/v1/keys",
            json={"name": "edge box", "role": "edge", "site_ids": ["demo"]},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        assert created.status_code == 201, created.text
        outbox = tmp_path / "outbox.sqlite"
        config = edge_config(
            tmp_path / "edge.yaml",
            url=base,
            api_key=created.json()["key"],
            outbox=outbox,
            update_interval_s=2,
        )
        worker = start_worker(config, worker_log)
        db = central / "sitewatch.db"
        wait_for(lambda: len(ingested(db)) >= 2, 120, "the first updates at the API", poll=0.2)

        api.send_signal(signal.SIGKILL)
        api.wait(timeout=10)
        wait_for(lambda: len(pending(outbox)) >= 2, 120, "updates waiting while the API is down", poll=0.2)
        waiting = pending(outbox)

        api = start_api(port, central, api_log)
        wait_for(lambda: not pending(outbox) and set(waiting) <= set(ingested(db)), 60, "the outbox to drain")
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        for process in (worker, api):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    queued = re.findall(r"event update (\S+)/(\d+) \(\S+ \S+\) queued", worker_log.read_text())
    sent = {(e, int(s)) for e, s in queued} - set(pending(outbox))  # the last ones wait for the next start
    stored = ingested(db)
    assert len(stored) == len(set(stored)) and sent <= set(stored), "an update was lost or stored twice"
    assert set(waiting) <= set(stored)
    with sqlite3.connect(db) as connection:
        missing = connection.execute(
            "SELECT COUNT(*) FROM events e WHERE e.snapshot_sha256 IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM evidence_files f WHERE f.sha256 = e.snapshot_sha256)"
        ).fetchone()[0]
        with_evidence = connection.execute(
            "SELECT COUNT(*) FROM events WHERE snapshot_sha256 IS NOT NULL"
        ).fetchone()
    assert missing == 0 and with_evidence[0] >= 1
    files = [p for p in (central / "evidence").rglob("*") if p.is_file() and not p.name.startswith(".")]
    with sqlite3.connect(db) as connection:
        assert len(files) == connection.execute("SELECT COUNT(*) FROM evidence_files").fetchone()[0]
