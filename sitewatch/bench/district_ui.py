"""The district's pages timed in headless Chromium at 10,000 cases and 100,000 events (part of ``bench ui``):
the dashboard until its figures show, the case board's first page and the next one, the event history's
first page of one kind in one week, and the case exports (CSV and Excel) of every case, as a supervisor's
browser asks for them."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page

#: The case board's page-info line changes when a page has been drawn.
_PAGE_INFO = "#page-info"


@dataclass(frozen=True, slots=True)
class DistrictTimes:
    """Milliseconds, each from the request to the page or file a person waits for."""

    dashboard_ms: float
    case_board_first_page_ms: float
    case_board_next_page_ms: float
    case_board_page_height_px: float
    history_first_page_ms: float
    history_found: int
    export_csv_ms: float
    export_xlsx_ms: float
    export_rows: int


def _elapsed(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def measure_district(page: Page, base: str, http: httpx.Client) -> DistrictTimes:
    """On a logged-in ``page``: the dashboard and the case board loaded from a blank page, the next page of
    the board; with ``http`` (the same user's session): both exports of every case, read to their end."""
    page.goto("about:blank")
    start = time.perf_counter()
    page.goto(base + "/#/dashboard")
    page.wait_for_selector("[data-figure=open] b", timeout=60_000)
    dashboard = _elapsed(start)

    page.goto("about:blank")
    start = time.perf_counter()
    page.goto(base + "/#/cases")
    page.wait_for_selector("#board tr.case", timeout=60_000)
    page.wait_for_selector(f"{_PAGE_INFO}:not(:empty)")
    first = _elapsed(start)
    height = float(page.evaluate("() => document.documentElement.scrollHeight"))
    before = page.inner_text(_PAGE_INFO)
    start = time.perf_counter()
    page.click("#next-page")
    page.wait_for_function("old => document.querySelector('#page-info')?.textContent !== old", arg=before)
    page.wait_for_selector("#board tr.case")
    following = _elapsed(start)

    page.goto(base + "/#/events")
    page.wait_for_selector("#history-filters")
    page.wait_for_selector("#queue .card")
    everything = page.inner_text("#counter")
    week_ago = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    page.select_option("#history-filters select[name=kind]", "no_helmet")
    page.fill("#history-filters input[name=since]", week_ago)
    start = time.perf_counter()
    page.click("#history-filters button[type=submit]")
    page.wait_for_function(
        "old => document.querySelector('#counter')?.textContent !== old"
        " && document.querySelector('#queue .card') !== null",
        arg=everything,
    )
    history = _elapsed(start)
    found = int(page.inner_text("#counter").split()[0])

    exports: dict[str, float] = {}
    rows = 0
    for kind in ("csv", "xlsx"):
        start = time.perf_counter()
        with http.stream("GET", "/api/v1/cases/export", params={"format": kind, "state": "all"}) as answer:
            answer.raise_for_status()
            body = b"".join(answer.iter_bytes())
        exports[kind] = _elapsed(start)
        if kind == "csv":
            rows = len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) - 1  # less the header
    return DistrictTimes(
        dashboard_ms=dashboard,
        case_board_first_page_ms=first,
        case_board_next_page_ms=following,
        case_board_page_height_px=height,
        history_first_page_ms=history,
        history_found=found,
        export_csv_ms=exports["csv"],
        export_xlsx_ms=exports["xlsx"],
        export_rows=rows,
    )


__all__ = ["DistrictTimes", "measure_district"]
