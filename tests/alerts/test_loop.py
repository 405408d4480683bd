"""The closed loop on the demo video, all in one process: a violation on camera becomes a case at the
case system; the case system reports it rectified; the re-inspection window passes and the case closes;
a recurrence during the window reopens a case and says so."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.access.auth import create_key
from api.http.services import services_of
from sitewatch.allinone import AllInOne
from sitewatch.config import load_config
from sitewatch.edge import build_worker
from streams.events import EventKind, EventUpdate, Evidence
from tests.alerts.conftest import SECRET
from tests.alerts.receiver import CaseSystem
from tests.conftest import ROOT
from tests.streams.rtsp import free_port
from tests.waiting import wait_for

WINDOW_S = 3.0


def config_file(tmp_path: Path, receiver: CaseSystem) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        f"""
site: {{id: demo, timezone: Asia/Shanghai}}
rules:
  no_helmet: {{armed: always}}
  no_vest: {{armed: always}}
  smoking: {{enabled: false}}
  cooldown_s: 5
cameras:
  gate: {{url: "{ROOT / "configs" / "demo" / "site-demo.mp4"}", loop: true}}
case_policies:
  no_helmet: {{trigger: on_start}}
  no_vest: {{trigger: on_start}}
alerts:
  poll_s: 0.05
  channels:
    cases: {{type: webhook, url: "{receiver.url}", secret: "{SECRET}"}}
  routes:
    - channels: [cases]
data_dir: "{tmp_path / "data"}"
"""
    )
    return path


def of_case(receiver: CaseSystem, case_id: int) -> list[tuple[str, Any]]:
    return [
        (n["type"], n["change"] and n["change"]["to_status"])
        for n in receiver.notices()
        if n["case"]["id"] == case_id
    ]


def test_violation_to_closed_case_and_the_reopen_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEWATCH_REINSPECTION_HOURS", str(WINDOW_S / 3600))
    monkeypatch.setenv("SITEWATCH_ADMIN_KEY", "sw_test-loop-admin-0123456789abcdefghijkl")
    receiver = CaseSystem(secret=SECRET)
    config = load_config(config_file(tmp_path, receiver))
    product = AllInOne(config, port=free_port())
    product.start_api()
    worker = build_worker(config, sink=product.sink)
    try:
        worker.start()
        wait_for(
            lambda: {n["case"]["kind"] for n in receiver.notices()} >= {"no_helmet", "no_vest"},
            120,
            "cases for both violations at the case system",
        )
        worker.stop()
        with services_of(product.app).sessions() as session:
            key = create_key(session, name="case system", role="integration", site_ids=["demo"])
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{product.port}", headers={"Authorization": f"Bearer {key}"}
        )
        cases = {c["kind"]: c for c in api.get("/api/v1/cases").json()}
        helmet, vest = cases["no_helmet"], cases["no_vest"]
        assert helmet["external_id"] and helmet["external_id"].startswith("CS-")

        # Closing path: dispatched, rectified, and no recurrence for the window.
        for state in ("dispatched", "rectified"):
            assert api.patch(f"/api/v1/cases/{helmet['id']}", json={"status": state}).status_code == 200
        assert api.get(f"/api/v1/cases/{helmet['id']}").json()["status"] == "reinspection"
        wait_for(
            lambda: ("case.updated", "closed") in of_case(receiver, helmet["id"]), 20, "the automatic close"
        )
        assert of_case(receiver, helmet["id"]) == [
            ("case.created", None),
            ("case.updated", "dispatched"),
            ("case.updated", "rectifying"),
            ("case.updated", "reinspection"),
            ("case.updated", "closed"),
        ]
        closed = api.get(f"/api/v1/cases/{helmet['id']}").json()
        assert closed["status"] == "closed" and closed["history"][-1]["actor"] == "reinspection"

        # Reopen path: the violation comes back during the window.
        for state in ("dispatched", "rectified"):
            assert api.patch(f"/api/v1/cases/{vest['id']}", json={"status": state}).status_code == 200
        now = time.time()
        frame = (ROOT / "configs" / "demo" / "images" / "site-1.jpg").read_bytes()
        product.sink.emit(
            EventUpdate.begin(
                EventKind.NO_VEST, "demo", "gate", started_at=now, now=now, score=0.9, people_count=1,
                evidence=Evidence(frame, frame),
            )
        )  # fmt: skip
        wait_for(
            lambda: ("case.updated", "reopened") in of_case(receiver, vest["id"]), 10, "the reopen notice"
        )
        time.sleep(WINDOW_S + 1)  # the window would have passed: a reopened case stays open
        reopened = api.get(f"/api/v1/cases/{vest['id']}").json()
        assert reopened["status"] == "reopened" and len(reopened["event_ids"]) == 2
        assert ("case.updated", "closed") not in of_case(receiver, vest["id"])
        assert set(receiver.successes.values()) == {1} and all(r.signed for r in receiver.requests)
    finally:
        worker.stop()
        product.stop()
        receiver.close()
