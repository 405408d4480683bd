"""The recurring-problems page in a real browser: a camera planted with false alarms shows as a finding with
its snapshots and suggested action; a supervisor turns it into a tracked issue and closes it; a viewer sees
the finding without the button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from api.http.services import services_of
from api.models import Event, TrackedIssue
from tests.web.conftest import Site, log_in, shot


def plant_false_alarms(site: Site, count: int = 25) -> None:
    """``count`` events of site-a's cam-1 dismissed as false alarms, with a stored snapshot."""
    with services_of(site.app).sessions() as session:
        first = session.get(Event, site.events["site-a"][0])
        assert first is not None and first.snapshot_sha256 is not None
        now = datetime.now(UTC)
        session.execute(
            insert(Event),
            [
                {
                    "id": f"evt-noisy-{i:03d}",
                    "site_id": "site-a",
                    "camera_id": "cam-1",
                    "kind": "no_vest",
                    "started_at": now - timedelta(hours=i + 1),
                    "updated_at": now - timedelta(hours=i + 1),
                    "score": 0.5 + i / 100,
                    "snapshot_sha256": first.snapshot_sha256,
                    "annotated_sha256": first.annotated_sha256,
                    "review_status": "false_alarm",
                    "details": {},
                }
                for i in range(count)
            ],
        )
        session.commit()


def tracked(site: Site) -> list[TrackedIssue]:
    with services_of(site.app).sessions() as session:
        return list(session.scalars(select(TrackedIssue)))


@pytest.mark.parametrize(("user", "tracks"), [("anna", True), ("victor", False)])
def test_a_finding_shows_with_its_evidence_and_becomes_a_tracked_issue(
    page: Page, site: Site, user: str, tracks: bool
) -> None:
    plant_false_alarms(site)
    log_in(page, site, user)
    page.click("a[href='#/recurring']")
    finding = page.locator("[data-finding=noisy_camera][data-subject='site-a/cam-1']")
    expect(finding).to_have_count(1)
    expect(finding.locator("h3")).to_contain_text("摄像头误报偏多")
    expect(finding.locator(".action")).to_contain_text("调整该摄像头的角度")
    expect(finding.locator(".finding-figures")).to_contain_text("误报率: 100%")
    images = finding.locator(".evidence img")
    expect(images).to_have_count(3)
    expect(images.first).to_have_js_property("complete", True)
    assert images.first.evaluate("img => img.naturalWidth") > 0, "the snapshot loads through the API"
    expect(page.locator("[data-finding]")).to_have_count(1)  # nothing else was planted
    shot(page, f"20-recurring-{user}")
    if not tracks:
        expect(finding.locator("button.track")).to_have_count(0)
        return
    finding.locator("button.track").click()
    form = finding.locator("form.track-form")
    form.locator("input[name=owner]").fill("王工")
    form.locator("button[type=submit]").click()
    row = page.locator("#tracked [data-issue]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("王工")
    expect(row.locator(".status")).to_have_text("跟踪中")
    issues = tracked(site)
    assert [(i.finding_kind, i.subject, i.owner, i.status) for i in issues] == [
        ("noisy_camera", "site-a/cam-1", "王工", "open")
    ]
    assert issues[0].finding["site_ids"] == ["site-a"]
    page.once("dialog", lambda dialog: dialog.accept("已调整角度"))
    row.locator("button.close").click()
    expect(page.locator("#tracked [data-issue] .status")).to_have_text("已结案: 已调整角度")
    assert [i.status for i in tracked(site)] == ["closed"]
    shot(page, "21-recurring-tracked")


def test_the_page_speaks_english(page: Page, site: Site) -> None:
    log_in(page, site, "anna")
    page.click("#lang")
    page.click("a[href='#/recurring']")
    expect(page.locator("#period h3")).to_have_text("Recurring problems")
    expect(page.locator("#no-findings")).to_have_text("No recurring problems found in this period")
    expect(page.locator("#tracked")).to_contain_text("No tracked issues")
