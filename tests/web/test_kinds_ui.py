"""The web UI lists and names the event kinds of ``detector.kinds`` (loaded as ``/ui/kinds.js``), in both
languages, in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from detector.kinds import KIND_NAMES, KINDS, PERSON_KINDS
from tests.web.conftest import Site, log_in


def kind_options(page: Page) -> list[tuple[str, str]]:
    options = page.locator("form.filters select[name=kind] option")
    expect(options).to_have_count(len(KINDS) + 1)  # "all kinds" first
    pairs: list[list[str]] = options.evaluate_all("os => os.map(o => [o.value, o.textContent])")
    return [(value, text) for value, text in pairs[1:]]


def test_the_kind_filter_and_the_charts_take_the_kinds_from_the_module(page: Page, site: Site) -> None:
    log_in(page, site, "anna")
    expect(page.locator("#queue .card")).to_have_count(6)
    assert kind_options(page) == [(k, KIND_NAMES["zh"][k]) for k in KINDS]
    expect(page.locator("#queue .card").first).to_contain_text(KIND_NAMES["zh"]["smoking"])  # the newest

    page.click("#lang")
    expect(page.locator("header nav a").first).to_have_text("Review")
    assert kind_options(page) == [(k, KIND_NAMES["en"][k]) for k in KINDS]

    page.click("a[href='#/dashboard']")
    expect(page.locator("svg.chart")).to_have_count(2)
    legend = page.locator("svg.chart").first.text_content() or ""
    assert all(KIND_NAMES["en"][k] in legend for k in PERSON_KINDS)
