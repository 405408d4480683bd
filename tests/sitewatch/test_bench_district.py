"""``bench ui`` at a (small) district's scale: the dashboard, the case board and the exports are measured on
what was seeded, and the board's page is a page, not a wall."""

from __future__ import annotations

from sitewatch.bench.ui import bench_ui
from tests.streams.rtsp import free_port

PROJECTS = 300  # seed_district's projects when the map seeded none; every 5th has an open case of its own
CASES = 400
VIEWPORT_HEIGHT = 860


def test_district_pages_are_measured_on_every_seeded_case() -> None:
    result = bench_ui(
        stored=20,
        cards=2,
        port=free_port(),
        map_projects=0,
        district_cases=CASES,
        district_events=2 * CASES,
        progress=False,
    )
    assert result.district_cases == CASES and result.district_events == 2 * CASES
    assert result.export_rows == CASES + PROJECTS // 5
    assert min(result.dashboard_ms, result.case_board_first_page_ms, result.case_board_next_page_ms) > 0
    assert min(result.export_csv_ms, result.export_xlsx_ms, result.history_first_page_ms) > 0
    assert 0 < result.history_found < result.district_events  # one kind of one week
    assert result.case_board_page_height_px < 4 * VIEWPORT_HEIGHT  # a page of cases, not every case
