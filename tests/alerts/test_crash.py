"""The dispatcher is killed between sending and recording: after a restart the receiver sees the same
idempotency key again, and, honouring it, opens no second case."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from alerts.config import AlertsConfig
from api.access.auth import create_key
from api.app import create_app
from api.cases.service import set_policy
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Delivery
from api.sites.service import ensure_site
from tests.alerts.conftest import ADMIN_KEY, SECRET, Loop
from tests.alerts.receiver import CaseSystem
from tests.conftest import ROOT
from tests.waiting import wait_for


def start(url: str, config: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.alerts.dispatch", url, config], cwd=ROOT)


def test_a_dispatcher_killed_mid_delivery_resends_with_the_same_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    receiver = CaseSystem(secret=SECRET, hold_first_s=2.0)
    channels = {"cases": {"type": "webhook", "url": receiver.url, "secret": SECRET, "timeout_s": 3}}
    config = AlertsConfig.model_validate({"channels": channels, "routes": [{"channels": ["cases"]}]})
    app = create_app(ApiSettings(database_url=url, data_dir=tmp_path, admin_key=ADMIN_KEY), dispatch=False)
    with services_of(app).sessions() as session:
        edge = create_key(session, name="edge", role="edge", site_ids=["site-a"])
        ensure_site(session, site_id="site-a")
        set_policy(session, site_id="site-a", kind="no_helmet", trigger="on_start", deadline_hours=24)
        session.commit()
    dispatcher = None
    try:
        with TestClient(app) as client:
            Loop(app, client, {"edge": edge}).ingest("evt-crash-0")
        dispatcher = start(url, config.model_dump_json())
        assert receiver.held.wait(30), "the dispatcher never sent"
        dispatcher.send_signal(signal.SIGKILL)  # while the receiver still holds the request
        dispatcher.wait(timeout=10)
        wait_for(lambda: receiver.accepted, 10, "the receiver to finish the held request")
        with services_of(app).sessions() as session:
            row = session.scalar(select(Delivery))
            assert row is not None and row.status == "pending" and row.attempts == 0  # nothing recorded

        dispatcher = start(url, config.model_dump_json())

        def recorded() -> bool:
            with services_of(app).sessions() as session:
                row = session.scalar(select(Delivery))
                return row is not None and row.status == "delivered"

        wait_for(recorded, 30, "the restarted dispatcher to deliver and record")
    finally:
        if dispatcher is not None and dispatcher.poll() is None:
            dispatcher.terminate()
            dispatcher.wait(timeout=10)
        receiver.close()
        services_of(app).engine.dispose()
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert len(keys) == 2 and keys[0] == keys[1], keys
    assert len(receiver.accepted) == 1 and receiver.successes == {keys[0]: 2}
    assert json.loads(receiver.requests[0].body) == json.loads(receiver.requests[1].body)  # the same body
