"""The web UI at a district's scale: 10,000 cases over 300 projects, seeded through the API once for the
module. Every count a page shows must equal the database's, whatever the number of cases."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from api.access.auth import create_key
from api.access.users import create_user
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Case
from tests.web.conftest import PASSWORD, Site, log_in, serving, shot
from tests.web.district import Seeded, seed_district

PROJECTS = 300
CASES = 10_000


@dataclass(frozen=True)
class District:
    site: Site
    seeded: Seeded


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    data = tmp_path_factory.mktemp("district")
    app: FastAPI = create_app(
        ApiSettings(database_url=f"sqlite:///{data / 'db.sqlite'}", data_dir=Path(data), admin_key=None),
        dispatch=False,
    )
    with services_of(app).sessions() as session:
        admin = create_key(session, name="district admin", role="admin", site_ids=[])
        edge = create_key(session, name="district edge", role="edge", site_ids=[])
        create_user(session, username="lg", password=PASSWORD, role="supervisor", site_ids=[])
    # Without TestClient's lifespan, as tests.web.conftest.seed: the server started next needs the committer.
    with nullcontext(TestClient(app)) as client:
        seeded = seed_district(
            client,
            admin={"Authorization": f"Bearer {admin}"},
            edge={"Authorization": f"Bearer {edge}"},
            projects=PROJECTS,
            cases=CASES,
        )
    with serving(app) as url:
        yield District(Site(app, url, {}), seeded)


def database_counts(app: FastAPI) -> tuple[int, int]:
    """Open and overdue cases as the database holds them now."""
    now = datetime.now(UTC)
    with services_of(app).sessions() as session:
        open_ = session.scalar(select(func.count()).select_from(Case).where(Case.status != "closed"))
        overdue = session.scalar(
            select(func.count()).select_from(Case).where(Case.status != "closed", Case.deadline_at < now)
        )
    return int(open_ or 0), int(overdue or 0)


def test_the_seed_made_a_district(district: District) -> None:
    with services_of(district.site.app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == CASES
    open_, overdue = database_counts(district.site.app)
    assert open_ == CASES - district.seeded.closed
    assert 0 < overdue < open_


def test_the_export_of_every_case_opens_in_a_spreadsheet_reader(district: District) -> None:
    with services_of(district.site.app).sessions() as session:
        key = create_key(session, name="export", role="supervisor", site_ids=[])
    answer = httpx.get(
        f"{district.site.url}/api/v1/cases/export",
        params={"format": "xlsx", "state": "all", "lang": "zh"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + CASES  # the header and every case
    assert "施工单位" in rows[0]


def test_dashboard_counts_equal_the_database(district: District, page: Page) -> None:
    """Regression: the dashboard counted the first 500 cases in the browser (500 open of 8,572)."""
    log_in(page, district.site, "lg")
    page.goto(district.site.url + "/#/dashboard")
    page.wait_for_selector("[data-figure=open] b")
    shown_open = int(page.inner_text("[data-figure=open] b").replace(",", ""))
    shown_overdue = int(page.inner_text("[data-figure=overdue] b").replace(",", ""))
    shot(page, "district-dashboard-zh")
    assert (shown_open, shown_overdue) == database_counts(district.site.app)


def test_dashboard_charts_count_every_violation_of_the_period(district: District, page: Page) -> None:
    """Regression: a period ending now drew its days from its start in steps of 24 h, so today (where all
    the seeded violations are) had no bar and the chart showed none of them."""
    log_in(page, district.site, "lg")
    page.goto(district.site.url + "/#/dashboard")
    page.wait_for_selector("[data-figure=violations] b")
    shown = int(page.inner_text("[data-figure=violations] b").replace(",", ""))
    charted = [
        int(total) for total in page.eval_on_selector_all("svg.chart", "s => s.map(c => c.dataset.total)")
    ]
    assert shown == CASES
    assert charted == [CASES, CASES]  # per day and per site


def test_the_case_board_pages_a_district_and_works_a_case(district: District, page: Page) -> None:
    log_in(page, district.site, "lg")
    page.goto(district.site.url + "/#/cases")
    open_, overdue = database_counts(district.site.app)
    pages = -(-open_ // 50)
    info = page.locator("#page-info")
    expect(info).to_have_text(f"第 1 / {pages} 页 · 共 {open_} 条")  # open cases first, counted by the server
    rows = page.locator("#board tr.case")
    expect(rows).to_have_count(50)
    assert page.evaluate("document.documentElement.scrollHeight") < 4 * 860  # a page, not a wall
    assert rows.first.get_attribute("class") == "case overdue"  # overdue first, by default
    shot(page, "district-case-board-zh")

    page.click("#case-filters input[name=overdue]")
    page.click("#case-filters button[type=submit]")
    expect(info).to_have_text(f"第 1 / {-(-overdue // 50)} 页 · 共 {overdue} 条")
    case_id = int(rows.first.get_attribute("data-id") or 0)
    rows.first.click()
    dialog = page.locator("#case-dialog")
    history = dialog.locator("#case-history tr")
    before = history.count()
    dialog.locator("[data-move=dispatched]").click()
    expect(history).to_have_count(before + 1)
    dialog.locator("#extend-hours").fill("24")
    dialog.locator("#extend-reason").fill("夜间施工，次日复查")
    dialog.locator("#extend").click()
    expect(history).to_have_count(before + 2)
    dialog.locator("[data-contact=call]").click()  # no phone channel configured here: refused, in the history
    expect(dialog.locator("#case-message")).to_contain_text("未配置电话通道")
    dialog.locator("#case-note").fill("现场已整改，复查合格")
    dialog.locator("[data-move=closed]").click()
    expect(dialog.locator("h2 .tag")).to_have_text("已结案")
    expect(dialog.locator("#case-history")).to_contain_text("电话通知未发出")
    shot(page, "district-case-dialog-zh")
    with services_of(district.site.app).sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "closed"
    assert database_counts(district.site.app) == (open_ - 1, overdue - 1)
