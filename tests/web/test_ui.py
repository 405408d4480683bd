"""The supervisors' web UI in a real browser: log in, review with the keyboard, see the case, switch
language, open the dashboard and a brief; a viewer cannot review; a user of one site sees nothing of
another."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect
from sqlalchemy import select

from api.http.services import services_of
from api.models import Event, Review
from tests.web.conftest import Site, log_in, shot


def verdicts(site: Site) -> dict[str, tuple[str, str]]:
    with services_of(site.app).sessions() as session:
        return {r.event_id: (r.verdict, r.note) for r in session.scalars(select(Review))}


def test_a_supervisor_reviews_three_events_with_the_keyboard(page: Page, site: Site) -> None:
    log_in(page, site, "anna")
    expect(page.locator("header nav a").first).to_have_text("审核")  # Chinese by default
    cards = page.locator("#queue .card")
    expect(cards).to_have_count(6)  # site-a only, pending, newest first
    newest = site.events["site-a"]
    assert cards.evaluate_all("cards => cards.map(c => c.dataset.id)") == newest
    shot(page, "1-review-queue")

    page.keyboard.press("c")  # confirm the newest
    expect(cards).to_have_count(5)
    page.keyboard.press("ArrowRight")  # skip one
    page.keyboard.press("x")  # dismiss the third as a false alarm
    expect(cards).to_have_count(4)
    page.keyboard.press("/")
    page.keyboard.type("helmet off near the mixer")
    page.keyboard.press("Enter")
    page.keyboard.press("c")
    expect(cards).to_have_count(3)
    shot(page, "2-review-after-three")
    assert verdicts(site) == {
        newest[0]: ("confirmed", ""),
        newest[2]: ("false_alarm", ""),
        newest[3]: ("confirmed", "helmet off near the mixer"),
    }

    page.click("a[href='#/cases']")
    case_cards = page.locator("#board tr.case[data-status=open]")
    expect(case_cards).to_have_count(2)  # confirmed violations open cases (the default policy)
    shot(page, "3-cases")
    case_cards.first.click()
    expect(page.locator("#case-dialog")).to_contain_text("处理记录")
    shot(page, "4-case-detail")
    page.keyboard.press("Escape")

    page.click("#lang")
    expect(page.locator("header nav a").first).to_have_text("Review")
    expect(page.locator("#case-counts [data-status=open]")).to_contain_text("Open")

    page.click("a[href='#/dashboard']")
    expect(page.locator("[data-figure=violations] b")).to_have_text("6")
    expect(page.locator("svg.chart")).to_have_count(2)
    shot(page, "5-dashboard")

    page.click("a[href='#/cameras']")
    shot(page, "6-cameras")
    page.click("a[href='#/officers']")
    expect(page.locator("#enrol")).to_be_visible()
    shot(page, "7-officers")

    page.click("a[href='#/briefs']")
    with page.expect_popup() as popup:
        page.click("#brief button[value=html]")
    brief = popup.value
    brief.wait_for_load_state()
    expect(brief.locator("h1")).to_contain_text("Weekly brief")
    shot(brief, "8-brief")


def test_a_viewer_sees_the_queue_but_cannot_review(page: Page, site: Site) -> None:
    log_in(page, site, "victor")
    expect(page.locator("#queue .card")).to_have_count(6)
    expect(page.locator("#confirm")).to_be_disabled()
    expect(page.locator(".notice")).to_contain_text("只读")
    page.keyboard.press("c")
    page.keyboard.press("x")
    page.wait_for_timeout(300)  # give a (wrongly) sent review the time to land
    assert verdicts(site) == {}
    shot(page, "9-viewer")


def test_a_user_of_one_site_sees_nothing_of_another(page: Page, site: Site) -> None:
    log_in(page, site, "bo")
    cards = page.locator("#queue .card")
    expect(cards).to_have_count(6)
    assert set(cards.evaluate_all("cards => cards.map(c => c.dataset.id)")) == set(site.events["site-b"])
    other = site.events["site-a"][0]
    status = page.evaluate("id => fetch(`/api/v1/events/${id}/snapshot`).then(r => r.status)", other)
    assert status == 404
    sites = page.evaluate("() => fetch('/api/v1/sites').then(r => r.json())")
    assert [s["id"] for s in sites] == ["site-b"]
    with services_of(site.app).sessions() as session:
        assert session.scalar(select(Event.review_status).where(Event.id == other)) == "pending"


def test_the_review_queue_works_on_a_phone(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, site, "anna")
        expect(page.locator("#queue .card")).to_have_count(6)
        box = page.locator("#detail").bounding_box()
        assert box is not None and box["width"] <= 390  # one column: the detail fits the screen
        page.locator("#queue .card").nth(1).tap()
        expect(page.locator("#queue .card.on")).to_have_attribute("data-id", site.events["site-a"][1])
        page.locator("#confirm").tap()
        expect(page.locator("#queue .card")).to_have_count(5)
        shot(page, "10-phone-review")
    finally:
        context.close()


PHONES: list[tuple[ViewportSize, str]] = [
    # (viewport, language): a phone upright, a small phone, a phone in English
    ({"width": 390, "height": 844}, "zh"),
    ({"width": 320, "height": 640}, "zh"),
    ({"width": 390, "height": 844}, "en"),
]

#: How many lines each navigation label takes (the line boxes of its text).
LABEL_LINES = """() => [...document.querySelectorAll('header nav a')].map(a => {
  const range = document.createRange(); range.selectNodeContents(a);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; })"""


@pytest.mark.parametrize(("viewport", "lang"), PHONES)
def test_on_a_phone_the_login_hides_the_bar_and_labels_keep_to_one_line(
    browser: Browser, site: Site, viewport: ViewportSize, lang: str
) -> None:
    """Regression (issue 13, finding 15): the header's display rule overrode ``hidden``, so the log-in
    page showed the navigation, and each Chinese label broke one character per line."""
    context = browser.new_context(viewport=viewport, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(site.url + "/")
        page.wait_for_selector("input[name=username]")
        expect(page.locator("#bar")).to_be_hidden()
        expect(page.locator("header nav a").first).to_be_hidden()
        shot(page, f"11-phone-login-{viewport['width']}")
        log_in(page, site, "anna")
        if lang == "en":
            page.locator("#lang").tap()
        expect(page.locator("header nav a").first).to_be_visible()
        lines = page.evaluate(LABEL_LINES)
        assert len(lines) >= 7 and lines == [1] * len(lines)  # every page's label, each on one line
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]  # the bar scrolls within itself, the page does not
        shot(page, f"12-phone-nav-{viewport['width']}-{lang}")
    finally:
        context.close()


def test_a_page_left_while_loading_does_not_replace_the_next_one(page: Page, site: Site) -> None:
    """Regression: the review queue's answer, arriving after the supervisor had moved on to the projects
    page, failed on the queue's detached counter, and its error message replaced the projects page."""
    held: list[Route] = []
    page.route("**/api/v1/events?*", lambda route: held.append(route))  # the queue's answer waits
    log_in(page, site, "anna")
    page.goto(site.url + "/#/projects")
    expect(page.locator("#new-project")).to_be_visible()
    assert held, "the review queue never asked for its events"
    with page.expect_response("**/api/v1/events?*"):
        for route in held:
            route.continue_()
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # let the late answer be handled
    expect(page.locator("#main .error")).to_have_count(0)
    expect(page.locator("#new-project")).to_be_visible()
