"""The live view in the browser (issue 22): a supervisor opens a camera's live view from the cameras page
and sees the picture move (the demo video, sent by the edge's live uploader over the API on loopback);
closing the dialog stops the box."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
import httpx
import numpy as np
from playwright.sync_api import Page

from api.access.auth import create_key
from api.http.services import services_of
from sitewatch.live import LiveUploader
from tests.conftest import ROOT
from tests.web.conftest import Site, log_in, shot

VIDEO = ROOT / "configs" / "demo" / "site-demo.mp4"

#: A hash of what the dialog's <img> shows now, drawn on a canvas of its natural size.
PICTURE = """() => {
  const img = document.querySelector('#live-dialog img');
  if (!img || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 97) hash = (hash * 31 + data[i]) | 0;
  return hash;
}"""


class DemoCamera:
    """The demo video as a camera's newest frame: the next frame of the file at each call."""

    def __init__(self) -> None:
        self.video = cv2.VideoCapture(str(VIDEO))
        self.lock = threading.Lock()
        self.seq = 0

    def latest(self, camera: str) -> tuple[int, float, np.ndarray | None]:
        with self.lock:
            ok, frame = self.video.read()
            if not ok:
                self.video.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self.video.read()
            self.seq += 1
            return self.seq, time.time(), frame if ok else None


def until(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s"
        time.sleep(0.05)


def test_a_supervisor_watches_a_camera_live_from_the_cameras_page(site: Site, page: Page) -> None:
    with services_of(site.app).sessions() as session:
        key = create_key(session, name="edge box A", role="edge", site_ids=["site-a"])
    health = [{"site_id": "site-a", "camera_id": "cam-1", "online": True, "input_fps": 10}]
    answer = httpx.post(
        f"{site.url}/api/v1/ingest/health", json=health, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 204, answer.text
    uploader = LiveUploader(
        DemoCamera().latest, ["cam-1"], site_id="site-a", api_url=site.url, api_key=key, wait_s=3.0
    )
    uploader.start()
    try:
        log_in(page, site, "anna")
        page.goto(site.url + "/#/cameras")
        page.click("[data-camera=cam-1] button.live-open")
        page.wait_for_selector("#live-dialog[open]")
        seen: set[int] = set()
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            picture = page.evaluate(PICTURE)
            if picture is not None:
                seen.add(picture)
            time.sleep(0.1)
        assert len(seen) >= 2, "the live view did not move within 5 s"
        assert page.locator("#live-dialog h2").inner_text().startswith("实时画面")
        shot(page, "live-view-zh")
        page.click("#live-dialog button:has-text('关闭')")
        page.wait_for_selector("#live-dialog", state="detached")
        until(lambda: uploader.streaming() == [], 10.0)  # the box stops once nobody watches
    finally:
        uploader.stop()


def test_one_viewer_too_many_is_told_so(site: Site, page: Page) -> None:
    with services_of(site.app).sessions() as session:
        edge = create_key(session, name="edge box A", role="edge", site_ids=["site-a"])
        others = create_key(session, name="other viewers", role="supervisor", site_ids=["site-a"])
    health = [{"site_id": "site-a", "camera_id": "cam-1", "online": True}]
    answer = httpx.post(
        f"{site.url}/api/v1/ingest/health", json=health, headers={"Authorization": f"Bearer {edge}"}
    )
    assert answer.status_code == 204, answer.text
    url = f"{site.url}/api/v1/sites/site-a/cameras/cam-1/live"
    with httpx.Client(headers={"Authorization": f"Bearer {others}"}, timeout=10) as client:
        streams = [client.stream("GET", url) for _ in range(4)]  # the most a camera may have (the default)
        assert [s.__enter__().status_code for s in streams] == [200] * 4
        log_in(page, site, "anna")
        page.goto(site.url + "/#/cameras")
        page.click("[data-camera=cam-1] button.live-open")
        page.wait_for_selector("#live-dialog .live-note.error")
        assert "观看人数已达上限" in page.locator("#live-dialog .live-note").inner_text()
        for stream in streams:
            stream.__exit__(None, None, None)


def test_the_case_dialog_opens_the_live_view_of_the_cases_camera(site: Site, page: Page) -> None:
    with services_of(site.app).sessions() as session:
        admin = create_key(session, name="admin", role="admin")
    event_id = site.events["site-a"][0]
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {admin}"}) as client:
        case = client.post("/api/v1/cases", json={"event_ids": [event_id]}).json()
    log_in(page, site, "anna")
    page.goto(site.url + "/#/cases")
    page.click(f"#board tr.case[data-id='{case['id']}']")
    page.click("#case-dialog button.live-open")
    live = page.locator("#live-dialog[open]")
    assert live.get_attribute("data-site") == "site-a"
    assert live.get_attribute("data-camera") == case["camera_id"]
