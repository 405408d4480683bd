"""The event history (#/events): every event of the user's sites whatever its verdict, filtered by verdict,
kind, period and text with the server's total, opening the same evidence view (where a verdict is
corrected)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.http.services import services_of
from api.models import Event
from tests.web.conftest import Site, log_in, shot


def site_a(site: Site) -> list[Event]:
    with services_of(site.app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.site_id == "site-a")))


def counter(page: Page) -> int:
    return int(page.inner_text("#counter").split()[0])


def test_the_history_holds_reviewed_events_and_corrects_a_verdict(page: Page, site: Site) -> None:
    log_in(page, site, "anna")
    expect(page.locator("#queue .card")).to_have_count(6)  # the queue is drawn: keys act on it
    expect(page.locator("#confirm")).to_be_enabled()
    page.keyboard.press("c")  # confirm the newest pending event on the review page
    expect(page.locator("#queue .card")).to_have_count(5)
    confirmed = site.events["site-a"][0]

    page.click("a[href='#/events']")
    expect(page.locator("#history-filters")).to_be_visible()
    expect(page.locator("#queue .card")).to_have_count(len(site_a(site)))  # every verdict, site-a only
    assert counter(page) == len(site_a(site))
    page.select_option("select[name=verdict]", "confirmed")
    page.click("#history-filters button[type=submit]")
    expect(page.locator("#queue .card")).to_have_count(1)
    expect(page.locator("#queue .card [data-verdict=confirmed]")).to_have_text("已确认")
    assert page.locator("#queue .card").get_attribute("data-id") == confirmed
    shot(page, "40-event-history-zh")

    page.click("#dismiss")  # corrected: a false alarm after all
    expect(page.locator("#queue .card")).to_have_count(0)  # no longer confirmed
    with services_of(site.app).sessions() as session:
        assert session.get(Event, confirmed).review_status == "false_alarm"  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["no_helmet", "smoking"])
def test_the_history_filters_by_kind_and_text(page: Page, site: Site, kind: str) -> None:
    events = site_a(site)
    log_in(page, site, "anna")
    page.goto(site.url + "/#/events")
    page.select_option("#history-filters select[name=kind]", kind)
    page.click("#history-filters button[type=submit]")
    expected = sorted(e.id for e in events if e.kind == kind)
    expect(page.locator("#queue .card")).to_have_count(len(expected))
    assert sorted(page.locator("#queue .card").evaluate_all("cs => cs.map(c => c.dataset.id)")) == expected
    assert counter(page) == len(expected)
    page.fill("#history-filters input[name=q]", expected[0])
    page.click("#history-filters button[type=submit]")
    expect(page.locator("#queue .card")).to_have_count(1)
    assert page.locator("#queue .card").get_attribute("data-id") == expected[0]
    page.fill("#history-filters input[name=q]", "")
    page.fill("#history-filters input[name=since]", "2099-01-01")  # a period with no event
    page.click("#history-filters button[type=submit]")
    expect(page.locator("#empty")).to_have_text("没有符合条件的事件。")
    assert counter(page) == 0
