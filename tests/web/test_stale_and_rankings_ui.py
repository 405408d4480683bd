"""Issue 21, items 5 and 6 in a real browser: the cameras page in one request, grouped by project, with a
camera gone silent shown offline and an offline-only filter; the map's legend counting an active project
under each of its problems and filtering by them; the recurring page's rankings, whose rows link to their
cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import insert, update

from api.access.auth import create_key
from api.access.users import create_user
from api.http.services import services_of
from api.models import CameraHealth, Case, Event
from tests.web.conftest import PASSWORD, Site, log_in, shot
from tests.web.test_projects_ui import LAT, LON, add_project


def admin(site: Site) -> str:
    """A user who sees every site."""
    with services_of(site.app).sessions() as session:
        create_user(session, username="ada", password=PASSWORD, role="admin", site_ids=[])
    return "ada"


def report(site: Site, site_id: str, cameras: dict[str, bool]) -> None:
    """Camera health as the site's edge box reports it."""
    with services_of(site.app).sessions() as session:
        key = create_key(session, name=f"edge {site_id} {len(cameras)}", role="edge", site_ids=[site_id])
    body = [{"site_id": site_id, "camera_id": c, "online": on} for c, on in cameras.items()]
    answer = httpx.post(
        f"{site.url}/api/v1/ingest/health", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 204, answer.text


def silence(site: Site, site_id: str, camera_id: str, minutes: int) -> None:
    """As if the camera's edge box had reported nothing for ``minutes``."""
    with services_of(site.app).sessions() as session:
        session.execute(
            update(CameraHealth)
            .where(CameraHealth.site_id == site_id, CameraHealth.camera_id == camera_id)
            .values(reported_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )
        session.commit()


def overdue_case(site: Site, site_id: str) -> None:
    now = datetime.now(UTC)
    with services_of(site.app).sessions() as session:
        session.add(
            Case(site_id=site_id, camera_id="cam-0", kind="no_helmet", status="open", created_at=now,
                 updated_at=now, deadline_at=now - timedelta(hours=2))
        )  # fmt: skip
        session.commit()


def project(site: Site, site_id: str, name: str, company: str = "", offset: float = 0.0) -> None:
    add_project(
        site,
        {
            "site_id": site_id,
            "name": name,
            "company": company,
            "lat": LAT + offset,
            "lon": LON + offset,
            "planned_start": (date.today() - timedelta(days=10)).isoformat(),
            "planned_end": (date.today() + timedelta(days=30)).isoformat(),
        },
    )


def test_the_cameras_page_loads_in_one_request_and_filters_the_offline(site: Site, page: Page) -> None:
    project(site, "site-a", "东区管网改造")
    report(site, "site-a", {"cam-0": True, "cam-1": True})
    report(site, "site-b", {"cam-0": False})
    silence(site, "site-a", "cam-1", minutes=10)
    log_in(page, site, admin(site))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(urlsplit(r.url).path) if "/api/v1/" in r.url else None)
    page.click("a[href='#/cameras']")
    expect(page.locator("#cam-summary")).to_have_attribute("data-offline", "2")
    panels = page.locator("[data-camera]")
    expect(panels).to_have_count(3)
    expect(page.locator(".camera-group > h3")).to_have_text(
        ["东区管网改造 (2 · 离线 1)", "未登记工程的工地 (1 · 离线 1)"]
    )
    stale = page.locator("[data-site=site-a][data-camera=cam-1]")
    expect(stale.locator(".tag[data-state]")).to_have_attribute("data-state", "stale")
    expect(stale.locator(".tag[data-state]")).to_have_text("离线 · 超时未上报")
    expect(stale.locator(".error")).to_have_text("已有 10 分钟 未上报（超过 2 分钟 即视为离线）")
    expect(page.locator("[data-site=site-b][data-camera=cam-0] .tag[data-state]")).to_have_attribute(
        "data-state", "offline"
    )
    expect(page.locator("#cam-rule")).to_contain_text("超过 2 分钟 没有任何上报")
    assert [p for p in asked if "camera" in p] == ["/api/v1/cameras"], asked
    shot(page, "30-cameras-stale")

    page.check("#cam-offline")
    expect(panels).to_have_count(2)
    expect(page.locator("[data-camera][data-online=true]")).to_have_count(0)
    assert "offline=1" in page.url
    shot(page, "31-cameras-offline-only")
    page.reload()
    expect(page.locator("#cam-offline")).to_be_checked()
    expect(panels).to_have_count(2)


def test_the_map_counts_a_project_under_each_problem_and_filters_by_them(site: Site, page: Page) -> None:
    # site-a: an overdue case and a silent camera; site-b: a camera reported offline; site-c: an overdue
    # case; site-d: nothing wrong.
    for i, (site_id, name) in enumerate(
        (("site-a", "甲 超期且离线"), ("site-b", "乙 离线"), ("site-c", "丙 超期"), ("site-d", "丁 正常"))
    ):
        project(site, site_id, name, offset=i / 100)
        report(site, site_id, {"cam-0": site_id != "site-b"})
    silence(site, "site-a", "cam-0", minutes=5)
    overdue_case(site, "site-a")
    overdue_case(site, "site-c")
    log_in(page, site, admin(site))
    page.goto(site.url + "/#/map")
    page.wait_for_selector("#map-page[data-refreshes='1']")
    counts = {
        status: page.locator(f".legend-item[data-status={status}]").get_attribute("data-count")
        for status in ("overdue", "open_cases", "offline", "active")
    }
    assert counts == {"overdue": "2", "open_cases": "2", "offline": "2", "active": "1"}
    expect(page.locator(".map-row")).to_have_count(4)
    shot(page, "32-map-legend")

    page.click(".legend-item[data-status=offline]")
    expect(page.locator(".map-row b")).to_have_text(["甲 超期且离线", "乙 离线"])
    expect(page.locator("#map")).to_have_attribute("data-markers", "2")
    assert "show=offline" in page.url
    page.click(".legend-item[data-status=overdue]")
    expect(page.locator(".map-row b")).to_have_text(["甲 超期且离线", "丙 超期"])
    expect(page.locator(".legend-item[data-status=overdue]")).to_have_attribute("aria-pressed", "true")
    page.locator(".map-row", has_text="甲").click()
    camera = page.locator("#map-project [data-camera=cam-0]")
    expect(camera.locator(".tag[data-state]")).to_have_attribute("data-state", "stale")
    expect(camera).to_contain_text("已有 5 分钟 未上报")
    shot(page, "33-map-overdue-open")
    page.click(".legend-item[data-status=overdue]")  # again: every project
    expect(page.locator(".map-row")).to_have_count(4)
    page.goto(site.url + "/#/map?show=offline")
    expect(page.locator(".map-row")).to_have_count(2)


def test_the_rankings_show_the_rules_and_link_each_row_to_its_cases(site: Site, page: Page) -> None:
    project(site, "site-a", "东区管网改造", company="宏达建筑")
    project(site, "site-b", "西区道路", company="安居建设", offset=0.01)
    now = datetime.now(UTC)
    with services_of(site.app).sessions() as session:  # site-a: 6 seeded + 4 = 10; site-b: 6 seeded
        session.execute(
            insert(Event),
            [
                {"id": f"evt-more-{i}", "site_id": "site-a", "camera_id": "cam-0", "kind": "no_helmet",
                 "started_at": now - timedelta(hours=i + 2), "updated_at": now, "details": {}}
                for i in range(4)
            ],
        )  # fmt: skip
        session.commit()
    log_in(page, site, admin(site))
    page.click("a[href='#/recurring']")
    # the median of 10 and 6 is 8; the bar max(5, 2 × 8) = 16
    expect(page.locator("#rules [data-rule=recurring_company]")).to_contain_text("门槛 16 起")
    expect(page.locator("#rules [data-rule=recurring_company]")).to_contain_text("中位数（8 起）的 2 倍")
    contractors = page.locator("#rank-contractors tr[data-row]")
    expect(contractors).to_have_count(2)
    expect(contractors.first).to_contain_text("宏达建筑")
    expect(contractors.first.locator("td.n").nth(2)).to_have_text("10")
    expect(contractors.nth(1)).to_contain_text("安居建设")
    expect(page.locator("#rank-projects tr[data-row]").first).to_contain_text("东区管网改造")
    hours = page.locator("#rank-hours tr[data-row]")
    expect(hours.first).to_be_visible()
    counts = [int(text) for text in hours.locator("td.n:nth-child(3)").all_inner_texts()]
    assert sum(counts) == 16 and counts == sorted(counts, reverse=True) and 0 < len(counts) <= 24
    expect(page.locator("#no-streets")).to_be_visible()
    shot(page, "34-rankings")
    contractors.first.locator("a.cases-link").click()
    page.wait_for_url("**/#/cases?*")
    assert parse_qs(urlsplit(page.url).fragment.split("?", 1)[1]) == {"contractor": ["宏达建筑"]}
    page.go_back()
    link = page.locator("#rank-cameras tr[data-row]").first.locator("a.cases-link")
    assert link.get_attribute("href") == "#/cases?site_id=site-a&camera_id=cam-0"
    page.click("#lang")
    expect(page.locator("#rules [data-rule=recurring_company]")).to_contain_text(
        "over the bar with 16 violations or more in the period — 2 × the median project with violations (8)"
    )
    expect(page.locator("#rank-contractors tr").first).to_contain_text("Contractor")
    shot(page, "35-rankings-en")
