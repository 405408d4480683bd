"""Evidence a supervisor can watch (issue 22): the review page's clip plays in Chromium, a new H.264 clip
and an old ``mp4v`` one (transcoded by the API on its first request); a clip that cannot play says so and
offers its download; on a phone the verdict buttons stay on the screen and no keyboard hint shows; the
review link's badge counts a new event while the page is open."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from api.access.auth import create_key
from api.http.services import services_of
from streams.clips import encode_clip
from streams.evidence import EvidenceMaker
from streams.video import codec_of
from tests.conftest import ROOT
from tests.detector.test_annotate import CROWD
from tests.web.conftest import ARTIFACTS, Site, log_in, shot

#: Resolves once the clip has played on for a second: readyState HAVE_FUTURE_DATA (3) or more and its
#: currentTime advancing. Muted: Chromium lets only muted media play without a gesture.
PLAYS = """async () => {
  const video = document.querySelector('#clip');
  video.muted = true;
  await video.play();
  const start = video.currentTime;
  await new Promise((done) => setTimeout(done, 1500));
  return { ready: video.readyState, start, now: video.currentTime, error: video.error?.message ?? null };
}"""


def picture(i: int) -> np.ndarray:
    image = np.full((360, 640, 3), 60, np.uint8)
    cv2.rectangle(image, (20 + 8 * i, 100), (140 + 8 * i, 300), (40, 40, 200), -1)
    cv2.putText(image, f"frame {i}", (20, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
    return image


def new_clip() -> bytes:
    """A clip as edge boxes write it now (streams.clips): 10 s at 10 frames a second."""
    frames = [(1000.0 + i / 10, cv2.imencode(".jpg", picture(i))[1].tobytes()) for i in range(101)]
    clip = encode_clip(frames)
    assert clip is not None
    return clip


def old_clip(folder: Path) -> bytes:
    """A clip as edge boxes wrote it before: OpenCV's VideoWriter, FourCC ``mp4v``."""
    path = folder / "old.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (640, 360))
    for i in range(100):
        writer.write(picture(i))
    writer.release()
    return path.read_bytes()


def ingest(
    site: Site,
    event_id: str,
    *,
    clip: bytes | None = None,
    minutes_ago: float = 0.0,
    pictures: tuple[bytes, bytes] | None = None,
) -> None:
    """A no-helmet event on site-a, newest of all unless ``minutes_ago``, with its ``pictures`` (clean and
    annotated JPEG; a drawing by default), sent as an edge box would."""
    with services_of(site.app).sessions() as session:
        key = create_key(session, name=f"edge for {event_id}", role="edge", site_ids=["site-a"])
    jpeg = cv2.imencode(".jpg", picture(0))[1].tobytes()
    clean, annotated = pictures or (jpeg, jpeg)
    started = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    evidence = {
        "snapshot_sha256": hashlib.sha256(clean).hexdigest(),
        "annotated_sha256": hashlib.sha256(annotated).hexdigest(),
    }
    files = {"snapshot": ("s.jpg", clean, "image/jpeg"), "annotated": ("a.jpg", annotated, "image/jpeg")}
    if clip is not None:
        evidence["clip_sha256"] = hashlib.sha256(clip).hexdigest()
        files["clip"] = ("c.mp4", clip, "video/mp4")
    body = {
        "event_id": event_id,
        "seq": 0,
        "phase": "start",
        "kind": "no_helmet",
        "site_id": "site-a",
        "camera_id": "gate",
        "started_at": started,
        "updated_at": started,
        "people_count": 1,
        "score": 0.9,
        "evidence": evidence,
    }
    response = httpx.post(
        f"{site.url}/api/v1/ingest/events",
        data={"event": json.dumps(body)},
        files=files,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("kind", ["new", "old"])
def test_the_review_page_clip_plays_in_chromium(page: Page, site: Site, tmp_path: Path, kind: str) -> None:
    clip = new_clip() if kind == "new" else old_clip(tmp_path)
    assert codec_of(clip) == ("h264" if kind == "new" else "mpeg4")
    ingest(site, f"evt-clip-{kind}", clip=clip)
    log_in(page, site, "anna")
    expect(page.locator("#queue .card.on")).to_have_attribute("data-id", f"evt-clip-{kind}")
    played = page.evaluate(PLAYS)
    assert played["error"] is None and played["ready"] >= 3, played
    assert played["now"] > played["start"] + 0.5, played
    shot(page, f"20-review-clip-{kind}")


def test_a_clip_that_cannot_play_says_so_and_offers_its_download(page: Page, site: Site) -> None:
    broken = b"\x00\x00\x00\x18ftypmp42" + bytes(256)  # an MP4 in name only: nothing decodes it
    ingest(site, "evt-clip-broken", clip=broken)
    log_in(page, site, "anna")
    expect(page.locator("#queue .card.on")).to_have_attribute("data-id", "evt-clip-broken")
    page.evaluate(
        "() => { const v = document.querySelector('#clip'); v.muted = true; v.play().catch(() => {}); }"
    )
    expect(page.locator("#clip-error")).to_have_text("此视频无法在浏览器中播放，请下载后查看。")
    link = page.locator("#clip-download")
    assert link.get_attribute("href") == "/api/v1/events/evt-clip-broken/clip"
    assert link.get_attribute("download") == "evt-clip-broken.mp4"


def test_on_a_phone_the_verdict_buttons_are_on_screen_without_scrolling(browser: Browser, site: Site) -> None:
    ingest(site, "evt-phone-clip", clip=new_clip())
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    try:
        log_in(page, site, "anna")
        expect(page.locator("#queue .card.on")).to_have_attribute("data-id", "evt-phone-clip")
        page.locator("#detail video").wait_for()
        assert (
            page.evaluate("document.documentElement.scrollHeight") > 844
        )  # the page is longer than the screen
        assert page.evaluate("window.scrollY") == 0
        for button in ("#confirm", "#dismiss"):
            box = page.locator(button).bounding_box()
            assert box is not None and box["height"] >= 40
            assert box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["x"] + box["width"] <= 390
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.id",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
            assert hit == button[1:]  # on top, not covered
        expect(page.locator("kbd").first).to_be_hidden()  # a touch screen: no keyboard hints
        expect(page.locator(".keys")).to_be_hidden()
        # What the phone shows (a full-page capture would drop the touch emulation and show the hints).
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "21-phone-review-zh.png"))
        page.locator("#dismiss").tap()
        expect(page.locator("#queue .card.on")).not_to_have_attribute("data-id", "evt-phone-clip")
    finally:
        context.close()


def test_keyboard_hints_show_with_a_mouse(page: Page, site: Site) -> None:
    evidence = EvidenceMaker().make(
        cv2.imread(str(ROOT / "configs" / "demo" / "images" / "site-1.jpg")), CROWD
    )
    ingest(site, "evt-desktop", clip=new_clip(), pictures=(evidence.snapshot, evidence.annotated))
    log_in(page, site, "anna")
    page.locator("#confirm").wait_for()
    expect(page.locator("#confirm kbd")).to_be_visible()
    expect(page.locator(".keys")).to_be_visible()
    shot(page, "22-review-desktop-zh")


def test_the_review_badge_counts_a_new_event_without_a_reload(page: Page, site: Site) -> None:
    page.clock.install()
    log_in(page, site, "anna")
    review = page.locator("header nav a[href='#/review']")
    expect(review).to_have_attribute("data-count", "6")  # site-a's pending events
    expect(review).to_have_text("审核")  # the number is drawn by CSS, the label stays the text
    badge = review.evaluate("a => getComputedStyle(a, '::after').content")
    assert badge == '"6"'
    ingest(site, "evt-badge-new")
    page.clock.fast_forward(16_000)  # one poll later
    expect(review).to_have_attribute("data-count", "7")
    expect(review).to_have_attribute("aria-label", "审核 (7 待审核)")
    page.locator("#confirm").click()  # a verdict counts again at once
    expect(review).to_have_attribute("data-count", "6")


#: Stand-ins that record what the page announces: notifications shown, tones played.
RECORDERS = """window.__notes = []; window.__tones = 0;
window.Notification = class { static permission = 'granted';
  static requestPermission() { return Promise.resolve('granted'); }
  constructor(title, options) { window.__notes.push([title, options.body]); } };
window.AudioContext = class { state = 'running'; currentTime = 0; destination = {}; resume() {}
  createOscillator() {
    window.__tones += 1;
    return { frequency: {}, connect: (x) => x, start() {}, stop() {} }; }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (x) => x }; } };"""


def test_sound_and_notifications_are_off_until_chosen_and_remembered_per_user(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    review = page.locator("header nav a[href='#/review']")
    announced = "() => [window.__notes, window.__tones]"
    try:
        page.add_init_script(RECORDERS)
        page.clock.install()
        log_in(page, site, "anna")
        expect(page.locator("#alert-sound")).not_to_be_checked()
        expect(page.locator("#alert-notify")).not_to_be_checked()
        ingest(site, "evt-quiet-1")
        page.clock.fast_forward(16_000)
        expect(review).to_have_attribute("data-count", "7")
        assert page.evaluate(announced) == [[], 0]  # off by default: nothing announced
        page.locator("#alert-notify").check()
        page.locator("#alert-sound").check()
        assert page.evaluate(announced) == [[], 2]  # turning the sound on plays it once
        page.reload()
        expect(page.locator("#alert-notify")).to_be_checked()  # remembered
        expect(page.locator("#alert-sound")).to_be_checked()
        expect(review).to_have_attribute("data-count", "7")
        ingest(site, "evt-loud-1")
        page.clock.fast_forward(16_000)
        expect(review).to_have_attribute("data-count", "8")
        assert page.evaluate(announced) == [[["sitewatch", "1 条新违规待审核"]], 2]
        page.locator("#logout").click()
        log_in(page, site, "bo")  # another user of this browser: their own choice, off
        expect(page.locator("#alert-sound")).not_to_be_checked()
        expect(page.locator("#alert-notify")).not_to_be_checked()
    finally:
        context.close()
