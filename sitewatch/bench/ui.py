"""``sitewatch bench ui``: the web UI and the briefs at scale. With ``stored`` events in the database, the
time until the review queue's first page is interactive, the time each next card takes to show, and the
time a weekly brief takes to render (HTML and PDF), and the district map's first render and refresh with
``map_projects`` projects (:mod:`sitewatch.bench.map`). Needs the dev extra (Playwright) and Chromium."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import cv2
import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert
from tqdm import tqdm

from api.access.users import create_user
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Event, EvidenceFile, Site
from api.reports.pdf import chromium
from detector.evaluation.figures import figures
from detector.kinds import PERSON_KINDS
from sitewatch.bench.district import seed_district
from sitewatch.bench.district_ui import measure_district
from sitewatch.bench.map import close_a_case, measure_map, seed_projects

KINDS = PERSON_KINDS
PASSWORD = "bench-password-0123"


@dataclass(frozen=True, slots=True)
class UiBench:
    """Attributes:
    stored_events: events in the database.
    first_page_ms: a logged-in supervisor opens the review page: until the cards and the first event's
        large snapshot are shown.
    next_card_median_ms: a key press to the next card's large snapshot shown (median).
    next_card_p95_ms: the same, 95th percentile.
    brief_html_ms: a weekly brief over the stored events, as HTML.
    brief_pdf_ms: the same brief printed to PDF.
    map_projects: projects on the district map.
    map_first_render_ms: loading ``/#/map`` until every marker and list row is drawn.
    map_refresh_unchanged_ms: a refresh of the map that finds nothing new (fetched, not redrawn).
    map_refresh_ms: a refresh after one marker's status changed (every marker and row drawn again).
    district_cases: cases in the database for the district's pages (with ``district_events`` events).
    dashboard_ms: loading ``/#/dashboard`` until its figures show.
    case_board_first_page_ms: loading ``/#/cases`` until its first page of cases and the page count show.
    case_board_next_page_ms: the next page of the case board.
    case_board_page_height_px: how tall the case board's page is (a page of 50 cases).
    history_first_page_ms: the event history asked for one kind in the last 7 days, until its first page
        and its total show.
    history_found: the events it found.
    export_csv_ms: the CSV export of every case, read to its end.
    export_xlsx_ms: the same as an Excel workbook.
    export_rows: rows of the CSV export (every case).
    """

    stored_events: int
    first_page_ms: float
    next_card_median_ms: float
    next_card_p95_ms: float
    brief_html_ms: float
    brief_pdf_ms: float
    map_projects: int = 0
    map_first_render_ms: float = 0.0
    map_refresh_unchanged_ms: float = 0.0
    map_refresh_ms: float = 0.0
    district_cases: int = 0
    district_events: int = 0
    dashboard_ms: float = 0.0
    case_board_first_page_ms: float = 0.0
    case_board_next_page_ms: float = 0.0
    case_board_page_height_px: float = 0.0
    history_first_page_ms: float = 0.0
    history_found: int = 0
    export_csv_ms: float = 0.0
    export_xlsx_ms: float = 0.0
    export_rows: int = 0

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


def _seed(app: FastAPI, count: int, progress: bool) -> str:
    """``count`` pending events over the last 7 days, with a few real snapshots; returns the ISO week."""
    now = datetime.now(UTC)
    store = services_of(app).store
    digests = []
    for i in range(8):
        picture = np.full((480, 640, 3), 30 * i, np.uint8)
        cv2.putText(picture, f"bench {i}", (40, 240), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
        digests.append((store.put(jpeg), len(jpeg)))
    step = timedelta(days=7) / count
    with services_of(app).sessions() as session:
        session.add(Site(id="bench", created_at=now))
        for digest, size in digests:
            session.add(EvidenceFile(sha256=digest, media_type="image/jpeg", size=size, created_at=now))
        session.commit()
        bar = tqdm(total=count, desc="seed events", unit="event", disable=not progress)
        for start in range(0, count, 5000):
            rows = [
                {
                    "id": f"bench-{i:08d}",
                    "site_id": "bench",
                    "camera_id": f"cam-{i % 12}",
                    "kind": KINDS[i % 3],
                    "status": "ended",
                    "started_at": now - step * i,
                    "updated_at": now - step * i,
                    "last_seq": 1,
                    "score": 0.6 + (i % 40) / 100,
                    "people_count": 1 + i % 4,
                    "review_status": "pending",
                    "snapshot_sha256": digests[i % 8][0],
                    "annotated_sha256": digests[(i + 1) % 8][0],
                    "details": {},
                }
                for i in range(start, min(count, start + 5000))
            ]
            session.execute(insert(Event), rows)
            bar.update(len(rows))
        session.commit()
        bar.close()
        create_user(session, username="bench", password=PASSWORD, role="supervisor")
    year, week, _ = (now - timedelta(days=3)).isocalendar()
    return f"{year}-W{week:02d}"


def bench_ui(
    *,
    stored: int,
    cards: int,
    port: int,
    map_projects: int = 1000,
    district_cases: int = 10_000,
    district_events: int = 100_000,
    progress: bool = True,
) -> UiBench:
    """Seed, serve on loopback, and measure in headless Chromium (the map unless ``map_projects`` is 0; the
    dashboard, case board and exports with ``district_cases`` cases and ``district_events`` events over 300
    projects unless ``district_cases`` is 0)."""
    from playwright.sync_api import sync_playwright

    binary = chromium()
    if binary is None:
        raise RuntimeError("bench ui needs Chromium (apt install chromium)")
    folder = Path(tempfile.mkdtemp(prefix="sitewatch-bench-ui-"))
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{folder / 'db.sqlite'}", data_dir=folder, admin_key=None),
        dispatch=False,
    )
    week = _seed(app, stored, progress)
    if map_projects:
        seed_projects(app, count=map_projects)
    if district_cases:
        seed_district(app, projects=300, cases=district_cases, events=district_events, progress=progress)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    flags = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=binary, args=flags)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(base + "/")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")  # log in once (scrypt is slow on purpose), then measure a load
            page.wait_for_selector("#queue .card", timeout=30_000)
            start = time.perf_counter()
            page.reload()
            page.wait_for_function(
                "() => document.querySelector('#annotated')?.complete === true", timeout=30_000
            )
            page.wait_for_selector("#queue .card")
            first = (time.perf_counter() - start) * 1000
            times = []
            for _ in tqdm(range(cards), desc="next card", unit="card", disable=not progress):
                before = page.eval_on_selector("#annotated", "img => img.src")
                start = time.perf_counter()
                page.keyboard.press("ArrowRight")
                page.wait_for_function(
                    "old => { const img = document.querySelector('#annotated');"
                    " return img && img.src !== old && img.complete; }",
                    arg=before,
                )
                times.append((time.perf_counter() - start) * 1000)
            cookies = {c["name"]: c["value"] for c in page.context.cookies()}
            change = partial(close_a_case, app)
            first_map, same_map, refresh_map = (
                measure_map(page, base, count=map_projects, change=change) if map_projects else (0.0,) * 3
            )
            with httpx.Client(base_url=base, cookies=cookies, timeout=300) as http:
                district = measure_district(page, base, http) if district_cases else None
            browser.close()
        with httpx.Client(base_url=base, cookies=cookies, timeout=120) as http:
            start = time.perf_counter()
            http.get("/api/v1/briefs", params={"period": week}).raise_for_status()
            html_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            http.get("/api/v1/briefs", params={"period": week, "format": "pdf"}).raise_for_status()
            pdf_ms = (time.perf_counter() - start) * 1000
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services_of(app).engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return UiBench(
        stored_events=stored,
        first_page_ms=first,
        next_card_median_ms=statistics.median(times),
        next_card_p95_ms=statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0],
        brief_html_ms=html_ms,
        brief_pdf_ms=pdf_ms,
        map_projects=map_projects,
        map_first_render_ms=first_map,
        map_refresh_unchanged_ms=same_map,
        map_refresh_ms=refresh_map,
        **(
            {"district_cases": district_cases, "district_events": district_events, **asdict(district)}
            if district is not None
            else {}
        ),
    )


__all__ = ["UiBench", "bench_ui"]
