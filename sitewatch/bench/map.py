"""The district map at scale, for ``sitewatch bench ui``: ``count`` projects seeded straight into the
database (each on its own site, phone numbers encrypted with the app's ``DataKeys.pii``, a share with
cameras offline, open and overdue cases), then the map page's first render and a refresh timed in Chromium.

Example:
    >>> from datetime import date
    >>> place(0, 1000)[0] > 30 and planned(7, date(2026, 11, 30))[0] < date(2026, 11, 30)
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from sqlalchemy import insert, select

from api.core.secretkeys import data_keys
from api.http.services import services_of
from api.models import CameraHealth, Case, Project, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: The middle of the seeded district (Shanghai) and its half-width in degrees.
CENTRE = (31.23, 121.47)
SPREAD = 0.25


def place(i: int, count: int) -> tuple[float, float]:
    """The ``i``-th of ``count`` projects' position: a sunflower spiral over the district, so that markers
    spread evenly as real sites would, without two on one spot."""
    radius = SPREAD * math.sqrt((i + 0.5) / count)
    angle = i * math.pi * (3 - math.sqrt(5))
    return CENTRE[0] + radius * math.sin(angle), CENTRE[1] + radius * math.cos(angle)


def planned(i: int, today: date) -> tuple[date, date]:
    """Planned start and end of the ``i``-th project: mostly running, some still to start, some over."""
    if i % 10 == 0:
        return today + timedelta(days=10 + i % 30), today + timedelta(days=120)
    if i % 10 == 1:
        return today - timedelta(days=200), today - timedelta(days=1 + i % 50)
    return today - timedelta(days=30 + i % 60), today + timedelta(days=30 + i % 90)


def seed_projects(app: FastAPI, *, count: int) -> None:
    """``count`` sites and projects (with two cameras each; every 7th with one offline, every 5th with an
    open case, every 15th's case overdue) written in bulk."""
    now = datetime.now(UTC)
    today = now.date()
    pii = data_keys(services_of(app).sessions).pii
    sites: list[dict[str, Any]] = []
    projects: list[dict[str, Any]] = []
    cameras: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    for i in range(count):
        site = f"map-{i:05d}"
        lat, lon = place(i, count)
        start, end = planned(i, today)
        phone = pii.encrypt(f"138{i:08d}".encode()).decode()
        sites.append({"id": site, "name": f"Site {i}", "created_at": now})
        projects.append(
            {
                "site_id": site,
                "name": f"工程 {i:04d}",
                "address": f"Road {i % 97} No. {i}",
                "lat": lat,
                "lon": lon,
                "builder": f"Client {i % 40}",
                "company": f"Contractor {i % 60}",
                "permit_no": f"P-{i:06d}",
                "contact_name": f"Contact {i}",
                "contact_phone": phone,
                "planned_start": start,
                "planned_end": end,
                "closed_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        for camera in ("cam-0", "cam-1"):
            offline = i % 7 == 0 and camera == "cam-1"
            cameras.append(
                {
                    "site_id": site,
                    "camera_id": camera,
                    "online": not offline,
                    "input_fps": 0.0 if offline else 10.0,
                    "frames_processed": 1000,
                    "offline_since": now - timedelta(hours=2) if offline else None,
                    "reported_at": now,
                }
            )
        if i % 5 == 0:
            deadline = now - timedelta(hours=3) if i % 15 == 0 else now + timedelta(hours=20)
            cases.append(
                {
                    "site_id": site,
                    "camera_id": "cam-0",
                    "kind": "no_helmet",
                    "status": "open",
                    "created_at": now - timedelta(days=1),
                    "updated_at": now - timedelta(days=1),
                    "deadline_at": deadline,
                }
            )
    with services_of(app).sessions() as session:
        for model, rows in ((Site, sites), (Project, projects), (CameraHealth, cameras), (Case, cases)):
            if rows:
                session.execute(insert(model), rows)
        session.commit()


def close_a_case(app: FastAPI) -> None:
    """Close the open case of project 5 (running, no camera offline), so that its marker turns from
    ``open_cases`` to ``active`` and the next refresh redraws it."""
    with services_of(app).sessions() as session:
        case = session.scalars(select(Case).where(Case.site_id == "map-00005", Case.status == "open")).first()
        if case is not None:
            case.status = "closed"
            case.closed_at = datetime.now(UTC)
            session.commit()


def measure_map(
    page: Page, base: str, *, count: int, change: Callable[[], None]
) -> tuple[float, float, float]:
    """On a logged-in ``page``, milliseconds: from loading ``/#/map`` until it shows all ``count`` markers and
    list rows (the page, the app's start, Leaflet and the markers' fetch included); a refresh (what the page's
    timer runs) that finds nothing new; one after ``change`` (every marker and row drawn again)."""
    markers = f"#map[data-markers='{count}']"
    page.goto("about:blank")
    start = time.perf_counter()
    page.goto(base + "/#/map")
    page.wait_for_selector(markers, timeout=60_000)
    page.wait_for_function(f"() => document.querySelectorAll('.map-row').length === {count}", timeout=60_000)
    page.wait_for_selector("#map-page[data-refreshes='1']")
    first = (time.perf_counter() - start) * 1000
    refreshes = []
    for number, before in ((2, None), (3, change)):
        if before is not None:
            before()
        start = time.perf_counter()
        page.click("#map-refresh")
        page.wait_for_selector(f"#map-page[data-refreshes='{number}']", timeout=60_000)
        page.wait_for_selector(markers)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")  # painted
        refreshes.append((time.perf_counter() - start) * 1000)
    return first, refreshes[0], refreshes[1]


__all__ = ["close_a_case", "measure_map", "place", "planned", "seed_projects"]
