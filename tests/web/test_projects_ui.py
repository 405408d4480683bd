"""Projects and the district map in a real Chromium (issue 16): a project made in the form is on the map,
its violations show as open cases there, and once its end date is past, a violation is not taken in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from api.access.auth import create_key
from api.cases.service import set_policy
from api.http.services import services_of
from api.models import Event
from tests.api.builders import edge_upload, event, labelled_jpeg
from tests.web.conftest import Site, log_in, shot

NAME = "东区管网改造"
LAT, LON = 31.2304, 121.4737


def ingest(site: Site, *, site_id: str, event_id: str, kind: str = "no_helmet") -> int:
    """A violation's start, with a snapshot, as the site's edge box sends it to the server; the answer's
    status code."""
    with services_of(site.app).sessions() as session:
        key = create_key(session, name=f"edge {event_id}", role="edge", site_ids=[site_id])
    now = datetime.now(UTC).isoformat()
    body = event(
        event_id, site=site_id, kind=kind, camera_id="cam-0", started_at=now, updated_at=now, score=0.9
    )
    with httpx.Client(base_url=site.url) as client:
        response = client.post(
            "/api/v1/ingest/events",
            **edge_upload(body, labelled_jpeg(event_id)),
            headers={"Authorization": f"Bearer {key}"},
        )
    return response.status_code


def marker_colors(page: Page) -> list[str]:
    """The fill colours of the circle markers Leaflet drew on the map's canvas."""
    return list(
        page.evaluate(
            """() => { const colors = []; document.querySelector('#map').leafletMap.eachLayer((layer) => {
                if (layer.getLatLng && layer.options.fillColor) colors.push(layer.options.fillColor); });
                return colors; }"""
        )
    )


def click_marker(page: Page, lat: float, lon: float) -> None:
    """Click the map's canvas where the marker of (lat, lon) is drawn."""
    point = page.evaluate(
        "([lat, lon]) => document.querySelector('#map').leafletMap.latLngToContainerPoint([lat, lon])",
        [lat, lon],
    )
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def add_project(site: Site, body: dict[str, object]) -> None:
    """A project registered through the API by an admin."""
    with services_of(site.app).sessions() as session:
        admin = create_key(session, name=f"admin {body['name']}", role="admin")
    headers = {"Authorization": f"Bearer {admin}"}
    response = httpx.post(f"{site.url}/api/v1/projects", json=body, headers=headers)
    assert response.status_code == 201, response.text


def fill_project(page: Page, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        page.fill(f"#project-form input[name={name}]", value)


def test_a_project_from_the_form_is_mapped_shows_its_cases_and_once_ended_takes_no_violation(
    site: Site, page: Page
) -> None:
    with services_of(site.app).sessions() as session:  # a violation at site-a opens a case at once
        set_policy(session, site_id="site-a", kind="no_helmet", trigger="on_start", deadline_hours=24)
        session.commit()
    today = date.today()
    log_in(page, site, "anna")
    page.goto(site.url + "/#/projects")
    page.click("#new-project")
    fill_project(
        page,
        {
            "site_id": "site-a",
            "name": NAME,
            "address": "黄浦区中山东一路1号",
            "lat": str(LAT),
            "lon": str(LON),
            "builder": "区城建中心",
            "company": "申城建设",
            "permit_no": "SG-2026-001",
            "contact_name": "王工",
            "contact_phone": "13812345678",
            "planned_start": (today - timedelta(days=7)).isoformat(),
            "planned_end": (today + timedelta(days=30)).isoformat(),
        },
    )
    page.click("#project-form button[type=submit]")
    row = page.locator("#projects tr[data-project]", has_text=NAME)
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "active")
    expect(row.locator(".phone")).to_have_text("13812345678")  # a supervisor sees it in full

    page.goto(site.url + "/#/map")
    page.wait_for_selector("#map[data-markers='1']")
    expect(page.locator(".map-row")).to_have_count(1)
    expect(page.locator(".map-row")).to_have_attribute("data-status", "active")
    click_marker(page, LAT, LON)
    expect(page.locator("#map-project-name")).to_have_text(NAME)
    expect(page.locator("#map-cases .case-row")).to_have_count(0)
    assert "project=" in page.url  # the open project is kept in the address, with the filters

    assert ingest(site, site_id="site-a", event_id="evt-map-1") == 201
    page.click("#map-refresh")
    expect(page.locator(".map-row")).to_have_attribute("data-status", "open_cases")
    expect(page.locator(".legend-item[data-status=open_cases]")).to_have_attribute("data-count", "1")
    expect(page.locator("#map-cases .case-row")).to_have_count(1)  # the project stayed open
    assert marker_colors(page) == ["#f08c00"]
    shot(page, "map-open-case")

    page.goto(site.url + "/#/projects")
    page.locator("#projects tr[data-project]", has_text=NAME).locator("button.edit").click()
    page.fill("#project-form input[name=planned_end]", (today - timedelta(days=1)).isoformat())
    page.click("#project-form button[type=submit]")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "finished")

    assert ingest(site, site_id="site-a", event_id="evt-map-2") == 200  # acknowledged, not stored
    with services_of(site.app).sessions() as session:
        assert session.get(Event, "evt-map-1") is not None
        assert session.get(Event, "evt-map-2") is None  # the project is over: nothing is taken in
    page.goto(site.url + "/#/review")
    expect(page.locator("#queue .card[data-id='evt-map-1']")).to_have_count(1)
    expect(page.locator("#queue .card[data-id='evt-map-2']")).to_have_count(0)
    page.goto(site.url + "/#/map")
    expect(page.locator(".map-row")).to_have_attribute("data-status", "finished")
    assert marker_colors(page) == ["#9aa0a6"]


def test_the_map_refreshes_by_itself_keeping_filters_and_the_open_project(site: Site, page: Page) -> None:
    for number, (site_id, company) in enumerate((("site-a", "申城建设"), ("site-a2", "浦江建工"))):
        add_project(
            site,
            {
                "site_id": site_id,
                "name": f"工程 {number}",
                "lat": LAT + number / 100,
                "lon": LON,
                "company": company,
                "planned_start": (date.today() - timedelta(days=1)).isoformat(),
                "planned_end": (date.today() + timedelta(days=9)).isoformat(),
            },
        )
    page.clock.install()
    log_in(page, site, "anna")  # anna sees site-a only
    page.goto(site.url + "/#/map?company=申城建设")
    page.wait_for_selector("#map-page[data-refreshes='1']")
    expect(page.locator(".map-row")).to_have_count(1)
    page.locator(".map-row").click()
    expect(page.locator("#map-project-name")).to_have_text("工程 0")
    assert ingest(site, site_id="site-a", event_id="evt-map-3", kind="camera_offline") == 201
    page.clock.fast_forward(31_000)
    page.wait_for_selector("#map-page[data-refreshes='2']")
    expect(page.locator(".map-row")).to_have_attribute("data-status", "open_cases")
    expect(page.locator("#project-filters input[name=company]")).to_have_value("申城建设")
    expect(page.locator("#map-project-name")).to_have_text("工程 0")
    expect(page.locator("#map-cases .case-row")).to_have_count(1)


def test_a_viewer_sees_a_masked_phone_and_no_button_that_writes(site: Site, page: Page) -> None:
    add_project(
        site,
        {
            "site_id": "site-a",
            "name": NAME,
            "lat": LAT,
            "lon": LON,
            "contact_name": "王工",
            "contact_phone": "13812345678",
            "planned_start": date.today().isoformat(),
            "planned_end": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    log_in(page, site, "victor")
    page.goto(site.url + "/#/projects")
    row = page.locator("#projects tr[data-project]", has_text=NAME)
    expect(row.locator(".phone")).to_have_text("138****5678")
    expect(page.locator("#new-project")).to_have_count(0)
    expect(row.locator("button")).to_have_count(0)
    page.goto(site.url + "/#/map")
    page.locator(".map-row").click()
    expect(page.locator("#map-project .phone")).to_have_text("王工 138****5678")
    expect(page.locator("#map-project button.edit")).to_have_count(0)
    assert "13812345678" not in page.content()


def test_the_map_asks_nothing_of_the_internet_and_draws_tiles_only_from_the_configured_server(
    site: Site, page: Page
) -> None:
    add_project(
        site,
        {
            "site_id": "site-a",
            "name": NAME,
            "lat": LAT,
            "lon": LON,
            "planned_start": date.today().isoformat(),
            "planned_end": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    log_in(page, site, "anna")
    page.goto(site.url + "/#/map")
    page.wait_for_selector("#map[data-markers='1']")
    expect(page.locator(".leaflet-control-scale")).to_be_visible()
    expect(page.locator("#map img.leaflet-tile")).to_have_count(0)  # no tile server: a plain background
    assert asked and all(url.startswith(site.url) for url in asked), sorted(set(asked))

    # A tile server behind the same origin (here: a picture the app serves anyway, for every tile).
    tiles = "/ui/vendor/leaflet/images/layers.png?z={z}&x={x}&y={y}"
    settings = services_of(site.app).settings
    services_of(site.app).settings = settings.model_copy(
        update={"map_tiles": tiles, "map_attribution": "© Tiles of the district"}
    )
    page.reload()
    page.wait_for_selector("#map[data-markers='1']")
    expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("© Tiles of the district")
    assert all(url.startswith(site.url) for url in asked)
