"""The camera page's false-alarm memory in a real browser: the suppression count and the entries per
camera; a supervisor removes one, a viewer sees them without a remove button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from api.access.auth import create_key
from api.http.services import services_of
from api.models import FalseAlarm
from tests.web.conftest import Site, log_in, shot


def remember(site: Site) -> None:
    """Camera cam-0 of site-a reports 4 suppressions and remembers two false alarms."""
    with services_of(site.app).sessions() as session:
        key = create_key(session, name="edge", role="edge", site_ids=["site-a"])
        now = datetime.now(UTC)
        for i, kind in enumerate(("no_helmet", "no_vest")):
            session.add(
                FalseAlarm(
                    site_id="site-a",
                    camera_id="cam-0",
                    kind=kind,
                    box=[0.1 + i / 2, 0.2, 0.3 + i / 2, 0.9],
                    signature=[0.125] * 64,
                    event_id=site.events["site-a"][0],
                    created_by="anna",
                    created_at=now,
                    expires_at=now + timedelta(days=30),
                )
            )
        session.commit()
    health = [
        {
            "site_id": "site-a",
            "camera_id": cam,
            "online": True,
            "suppressions": counts,
            "suppressions_run": "r1",
        }
        for cam, counts in (("cam-0", {"no_helmet": 3, "no_vest": 1}), ("cam-1", {}))
    ]
    answer = httpx.post(
        f"{site.url}/api/v1/ingest/health", json=health, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 204, answer.text


def remembered(site: Site) -> int:
    with services_of(site.app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(FalseAlarm)) or 0)


@pytest.mark.parametrize(("user", "removes"), [("anna", True), ("victor", False)])
def test_the_camera_page_lists_the_memory_and_a_supervisor_removes_an_entry(
    page: Page, site: Site, user: str, removes: bool
) -> None:
    remember(site)
    log_in(page, site, user)
    page.click("a[href='#/cameras']")
    camera = page.locator("[data-camera=cam-0]")
    expect(camera.locator(".suppressed")).to_have_text("已抑制（与误报相同的检测）: 4")
    expect(camera.locator("[data-false-alarm]")).to_have_count(2)
    expect(camera.locator("[data-false-alarm]").first).to_contain_text("未戴安全帽")
    expect(page.locator("[data-camera=cam-1] .memory")).to_contain_text("无误报记忆")
    shot(page, f"10-false-alarms-{user}")
    buttons = camera.locator("[data-false-alarm] button")
    if not removes:
        expect(buttons).to_have_count(0)
        return
    page.once("dialog", lambda dialog: dialog.accept())
    buttons.first.click()
    expect(camera.locator("[data-false-alarm]")).to_have_count(1)
    expect(camera.locator("[data-false-alarm]")).to_contain_text("未穿反光背心")
    assert remembered(site) == 1
