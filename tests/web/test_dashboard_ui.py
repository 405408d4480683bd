"""The dashboard's closed-loop figures in a real browser, against the seeded month of
:mod:`tests.api.loop_seed` (expected values worked out by hand from its hours), with a baseline set."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Case
from tests.api.loop_seed import seed_loop
from tests.streams.rtsp import free_port
from tests.web.conftest import Site, log_in, seed, shot


@pytest.fixture
def loop_site(tmp_path: Path) -> Iterator[Site]:
    """The web UI's seeded sites, the closed loop's seeded months, a baseline of January 2025, and one more
    open case on site-a that is not yet due."""
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=tmp_path,
        baseline_since=date(2025, 1, 1),
        baseline_until=date(2025, 1, 31),
    )
    app = create_app(settings, dispatch=False)
    events = seed(app)
    seed_loop(services_of(app).sessions)
    now = datetime.now(UTC)
    with services_of(app).sessions() as session:
        due = now + timedelta(hours=24)
        session.add(
            Case(
                site_id="site-a",
                kind="no_vest",
                status="open",
                created_at=now,
                updated_at=now,
                deadline_at=due,
            )
        )
        session.commit()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield Site(app, f"http://127.0.0.1:{port}", events)
    server.should_exit = True
    thread.join(timeout=10)
    services_of(app).engine.dispose()


def figure(page: Page, name: str) -> str:
    return page.locator(f"[data-figure={name}]").inner_text()


def test_the_four_figures_of_october_against_september_and_the_baseline(page: Page, loop_site: Site) -> None:
    log_in(page, loop_site, "anna")  # site-a only
    page.click("a[href='#/dashboard']")
    # open now on site-a: September's two and January 2025's one (past due), and the new one
    expect(page.locator("[data-figure=open] b")).to_have_text("4")
    expect(page.locator("[data-figure=overdue] b")).to_have_text("3")

    page.select_option("select[name=period]", "custom")
    page.fill("input[name=from]", "2026-10-01")
    page.fill("input[name=to]", "2026-10-31")
    page.click(".custom button")
    expect(page.locator("#range")).to_have_text("2026-10-01 – 2026-10-31")
    closure = page.locator("[data-figure=closure_rate]")
    expect(closure.locator("b")).to_have_text("90%")  # 9 of 10 closed in October
    expect(closure).to_contain_text("办结率")
    expect(closure).to_contain_text("9/10 件")
    # against September (2 of 4): +40 points, good; against January 2025 (4 of 5): +10 points, good
    expect(closure.locator("[data-change=previous]")).to_have_text("较上期 ▲40.0个百分点")
    expect(closure.locator("[data-change=previous]")).to_have_class("change good")
    expect(closure.locator("[data-change=baseline]")).to_have_text("较基线 ▲10.0个百分点")
    mean = page.locator("[data-figure=mean_handling_hours]")
    expect(mean.locator("b")).to_have_text("18.3")  # 164.7 hours over 9 cases
    expect(mean.locator("[data-change=previous]")).to_have_text("较上期 ▼150.3小时")  # from 168.6: good
    expect(mean.locator("[data-change=previous]")).to_have_class("change good")
    expect(mean.locator("[data-change=baseline]")).to_have_text("较基线 ▼29.7小时")  # from 48
    fast = page.locator("[data-figure=fast_close_rate]")
    expect(fast.locator("b")).to_have_text("77.8%")  # 7 of 9 within 24 h
    expect(fast).to_contain_text("24小时内办结 7/9 件")
    calls = page.locator("[data-figure=call_share]")
    expect(calls.locator("b")).to_have_text("40%")  # 4 of 10 called or texted
    expect(calls).to_contain_text("4/10 件")
    expect(page.locator("[data-figure=median_handling_hours] b")).to_have_text("5.0")
    # 31 days: every n-th day written under the bars, evenly, so that the labels never overlap
    texts = page.locator("svg.chart").first.locator("text").all_text_contents()
    days = [int(t[3:]) for t in texts if re.fullmatch(r"10-\d\d", t)]
    assert days[0] == 1 and 8 <= len(days) <= 16
    assert len({b - a for a, b in pairwise(days)}) == 1
    shot(page, "dashboard-zh")

    page.click("#lang")
    expect(page.locator("[data-figure=closure_rate]")).to_contain_text("Closure rate")
    page.select_option("select[name=period]", "this_month")
    expect(page.locator("#range")).to_contain_text("(in progress)")
    expect(page.locator("[data-figure=fast_close_rate]")).to_contain_text("Fast-close rate")
    expect(page.locator("[data-figure=call_share]")).to_contain_text("Call share")
    shot(page, "dashboard-en")


def test_a_falling_closure_rate_is_red(page: Page, loop_site: Site) -> None:
    log_in(page, loop_site, "bo")  # site-b: two cases in October, none closed; none in September
    page.click("a[href='#/dashboard']")
    page.select_option("select[name=period]", "custom")
    page.fill("input[name=from]", "2026-10-01")
    page.fill("input[name=to]", "2026-10-31")
    page.click(".custom button")
    closure = page.locator("[data-figure=closure_rate]")
    expect(closure.locator("b")).to_have_text("0%")
    expect(closure).to_contain_text("0/2 件")
    expect(closure.locator("[data-change=previous]")).to_have_count(0)  # nothing in September to compare
    expect(page.locator("[data-figure=call_share] b")).to_have_text("100%")
    expect(page.locator("[data-figure=mean_handling_hours] b")).to_have_text("—")


def test_the_monthly_brief_from_the_briefs_page(page: Page, loop_site: Site) -> None:
    log_in(page, loop_site, "anna")
    page.click("a[href='#/briefs']")
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()  # the API's zone (the default)
    last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1).strftime("%Y-%m")
    expect(page.locator("input[name=month]")).to_have_value(last)  # the last complete month
    expect(page.locator("#partial")).to_be_hidden()
    page.check("input[name=kind][value=month]")
    page.fill("input[name=month]", today.strftime("%Y-%m"))
    expect(page.locator("#partial")).to_be_visible()  # this month is not over
    page.fill("input[name=month]", "2026-10")
    expect(page.locator("#partial")).to_be_hidden()
    with page.expect_popup() as popup:
        page.click("#brief button[value=html]")
    brief = popup.value
    brief.wait_for_load_state()
    expect(brief.locator("h1")).to_contain_text("月报 2026-10")
    closure = brief.locator("[data-figure=closure_rate]")
    expect(closure.locator("b")).to_have_text("90.0%")
    expect(closure.locator(".change.good").first).to_have_text("▲40.0个百分点")
    expect(brief.locator("[data-figure=mean_handling_hours] b")).to_have_text("18.3")
    expect(brief.locator("[data-figure=fast_close_rate] b")).to_have_text("77.8%")
    expect(brief.locator("[data-figure=call_share] b")).to_have_text("40.0%")
    expect(brief.locator(".vs-baseline").first).to_contain_text("基线 80.0%")
    shot(brief, "brief-zh")
