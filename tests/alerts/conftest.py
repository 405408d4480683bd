"""An API with alerts configured, its dispatcher running, and a case system receiving its webhooks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alerts.config import AlertsConfig
from api.access.auth import create_key
from api.app import create_app
from api.cases.service import set_policy
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.sites.service import ensure_site
from tests.alerts.receiver import CaseSystem
from tests.api.conftest import database_url, evidence  # noqa: F401 - the fixtures
from tests.pg import postgres  # noqa: F401 - the fixture
from tests.s3 import s3_env, s3_server  # noqa: F401 - the fixtures

ADMIN_KEY = "sw_test-alerts-admin-0123456789abcdefghijkl"
SECRET = "receiver-secret-0123"


@dataclass
class Loop:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def ingest(self, event_id: str, *, kind: str = "no_helmet", camera: str = "gate", seq: int = 0,
               phase: str = "start", seed: int = 0) -> None:  # fmt: skip
        snapshot = cv2.imencode(".jpg", np.full((48, 64, 3), seed % 255, np.uint8))[1].tobytes()
        now = datetime.now(UTC).isoformat()
        body = {
            "event_id": event_id, "seq": seq, "phase": phase, "kind": kind, "site_id": "site-a",
            "camera_id": camera, "started_at": now, "updated_at": now, "people_count": 2, "score": 0.8,
            "evidence": {"snapshot_sha256": hashlib.sha256(snapshot).hexdigest()},
        }  # fmt: skip
        response = self.client.post(
            "/api/v1/ingest/events",
            data={"event": json.dumps(body)},
            files={"snapshot": ("s.jpg", snapshot, "image/jpeg")},
            headers=self.as_("edge"),
        )
        assert response.status_code == 201, response.text

    def cases(self) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/cases", headers=self.as_("admin"))
        assert response.status_code == 200
        return list(reversed(response.json()))


def webhook(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "secret": SECRET, "backoff_s": 0.05, "backoff_max_s": 0.2, **extra}


MakeLoop = Callable[..., Loop]


@pytest.fixture
def make_loop(tmp_path: Path, database_url: str) -> Iterator[MakeLoop]:  # noqa: F811
    """``make_loop(channels=..., routes=...)``: an API whose site-a opens cases at an event's start."""
    opened: list[tuple[FastAPI, TestClient]] = []

    def make(
        channels: dict[str, Any],
        routes: list[dict[str, Any]],
        briefs: list[dict[str, Any]] | None = None,
        **settings: Any,
    ) -> Loop:
        config = AlertsConfig.model_validate(
            {"channels": channels, "routes": routes, "briefs": briefs or [], "poll_s": 0.05}
        )
        app = create_app(
            ApiSettings(database_url=database_url, data_dir=tmp_path, admin_key=ADMIN_KEY, **settings),
            alerts=config,
        )
        keys = {"admin": ADMIN_KEY}
        with services_of(app).sessions() as session:
            keys["edge"] = create_key(session, name="edge", role="edge", site_ids=["site-a"])
            keys["integration"] = create_key(
                session, name="case system", role="integration", site_ids=["site-a"]
            )
            keys["viewer"] = create_key(session, name="viewer", role="viewer")
            ensure_site(session, site_id="site-a")
            for kind in ("no_helmet", "no_vest", "smoking"):
                set_policy(session, site_id="site-a", kind=kind, trigger="on_start", deadline_hours=24)
            session.commit()
        client = TestClient(app)
        client.__enter__()
        opened.append((app, client))
        return Loop(app, client, keys)

    yield make
    for app, client in opened:
        client.__exit__(None, None, None)
        services_of(app).engine.dispose()


@pytest.fixture
def case_system() -> Iterator[CaseSystem]:
    receiver = CaseSystem(secret=SECRET)
    yield receiver
    receiver.close()
