"""Edge worker and receiving API as two processes: the API is down, the worker is killed, nothing is lost.

The worker (``sitewatch worker``, a real subprocess) watches the demo video and sends events over HTTP to
a port where nothing listens yet, so they pile up in its outbox. It is killed with SIGKILL, started
again, and only then the receiver comes up: every update that was in the outbox arrives exactly once,
and each event's updates arrive complete and in order.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.streams.receiver import Receiver
from tests.streams.rtsp import free_port
from tests.waiting import wait_for


def pending(outbox: Path) -> list[tuple[str, int]]:
    if not outbox.exists():
        return []
    with sqlite3.connect(outbox) as db:
        try:
            return [
                (str(e), int(s))
                for e, s in db.execute("SELECT event_id, seq FROM outbox WHERE dead = 0 ORDER BY id")
            ]
        except sqlite3.OperationalError:
            return []


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sitewatch.cli", "--log-level", "INFO", "worker", "--config", str(config)],
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def edge_config(
    path: Path, *, url: str, api_key: str, outbox: Path, update_interval_s: float | None = None
) -> Path:
    """A worker on the looping demo video, quick to start events, sending to ``url`` through ``outbox``."""
    interval = "" if update_interval_s is None else f"\n  update_interval_s: {update_interval_s}"
    path.write_text(
        f"""
site: {{id: demo, timezone: Asia/Shanghai}}
rules:
  no_helmet: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  no_vest: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  smoking: {{enabled: false}}
  cooldown_s: 2{interval}
sink:
  type: http
  url: "{url}"
  api_key: "{api_key}"
  outbox: "{outbox}"
  retry_max_s: 0.5
cameras:
  gate: {{url: configs/demo/site-demo.mp4, loop: true}}
"""
    )
    return path


def test_events_survive_an_api_outage_and_a_killed_worker(tmp_path: Path) -> None:
    port = free_port()
    outbox = tmp_path / "outbox.sqlite"
    config = edge_config(
        tmp_path / "edge.yaml", url=f"http://127.0.0.1:{port}", api_key="test-edge-key", outbox=outbox
    )
    log = tmp_path / "worker.log"
    worker = start_worker(config, log)
    try:
        wait_for(
            lambda: len(pending(outbox)) >= 4, 120, "events in the outbox while the API is down", poll=0.2
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        before_kill = pending(outbox)
        assert before_kill, log.read_text()[-2000:]

        worker = start_worker(config, log)
        time.sleep(3)  # the restarted worker retries into the void for a while
        with Receiver(port=port) as receiver:
            wait_for(
                lambda: set(before_kill) <= receiver.seen, 60, "the outbox to drain into the API", poll=0.2
            )
            worker.send_signal(signal.SIGTERM)  # a graceful stop ends the open incidents
            worker.wait(timeout=60)
            worker = start_worker(config, log)  # ... whose end updates a next start delivers
            wait_for(lambda: not pending(outbox), 60, "an empty outbox", poll=0.2)
            # Regression: a SIGTERM right after start once deadlocked the signal handler on an Event.
            wait_for(lambda: log.read_text().count("worker started") == 3, 60, "the third start", poll=0.2)
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert receiver.duplicates == 0, "an update arrived twice"
    assert set(before_kill) <= receiver.seen
    by_event: dict[str, list[int]] = {}
    for event in receiver.stored:
        by_event.setdefault(event["event_id"], []).append(event["seq"])
    for event_id, seqs in by_event.items():
        assert seqs == list(range(len(seqs))), f"event {event_id} arrived as {seqs}"
    starts = [e for e in receiver.stored if e["phase"] == "start" and e["kind"] in ("no_helmet", "no_vest")]
    assert starts and all(e["evidence"].get("snapshot_sha256") for e in starts)
    assert all(("snapshot" in receiver.files[(e["event_id"], 0)]) for e in starts)
    assert receiver.auth == {"Bearer test-edge-key"}
    assert "test-edge-key" not in log.read_text()  # the secret is never logged
