"""A camera's live view (issue 22): the edge box hears of a viewer over its own long poll, pushes frames
while someone watches and is told to stop once nobody does; viewers see only their sites' cameras, at most
``live_viewers`` at once, and each view is audited. A fake edge box (a thread with the edge key) and real
viewers talk to the API served on loopback (an MJPEG stream never ends, which TestClient cannot read)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import select

from api.http.services import services_of
from api.models import AuditEntry
from api.sites.relay import LiveRelay
from tests.api.builders import jpeg
from tests.api.live import LiveApi, live_api, mjpeg_frames

T = TypeVar("T")


def run(scenario: Coroutine[object, object, T]) -> T:
    """``scenario`` run to its end on an event loop of its own thread: the web tests' Playwright (sync API)
    keeps a loop running in the main thread for the rest of the session, where ``asyncio.run`` refuses."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path, live_viewers=2) as served:
        yield served


class FakeEdge(threading.Thread):
    """An edge box of site-a: one long poll, then frames of each requested camera (a different JPEG each
    time) until an answer says nobody watches, or ``until`` seconds have passed."""

    def __init__(self, live: LiveApi, until: float = 20.0) -> None:
        super().__init__(daemon=True)
        self.live, self.until = live, until
        self.requested: list[str] = []
        self.sent: dict[int, float] = {}  # frame number -> its X-Frame-Time
        self.answers: list[tuple[float, bool]] = []  # (when, watching)

    def run(self) -> None:
        with httpx.Client(base_url=self.live.url, headers=self.live.as_("edge"), timeout=30) as client:
            poll = client.get("/api/v1/ingest/live-requests", params={"site": "site-a", "wait_s": 15})
            assert poll.status_code == 200, poll.text
            self.requested = poll.json()["cameras"]
            deadline = time.monotonic() + self.until
            number = 0
            while self.requested and time.monotonic() < deadline:
                number += 1
                self.sent[number] = 1_700_000_000.0 + number
                answer = client.post(
                    "/api/v1/ingest/live/cam-1",
                    params={"site": "site-a"},
                    content=jpeg(number),
                    headers={"Content-Type": "image/jpeg", "X-Frame-Time": str(self.sent[number])},
                )
                assert answer.status_code == 200, answer.text
                self.answers.append((time.monotonic(), answer.json()["watching"]))
                if not answer.json()["watching"]:
                    return
                time.sleep(0.1)


def test_a_viewer_gets_the_frames_the_edge_pushes_and_the_edge_stops_when_the_viewer_leaves(
    live: LiveApi,
) -> None:
    edge = FakeEdge(live)
    edge.start()
    time.sleep(0.3)  # the long poll waits at the API: nobody watches yet
    assert not edge.requested
    frames: list[bytes] = []
    with (
        httpx.Client(headers=live.as_("supervisor"), timeout=10) as viewer,
        viewer.stream("GET", live.live_url()) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "multipart/x-mixed-replace; boundary=frame"
        for headers, picture in mjpeg_frames(stream):
            number = next(n for n in edge.sent if jpeg(n) == picture)
            assert float(headers["x-frame-time"]) == edge.sent[number]
            frames.append(picture)
            if len(set(frames)) >= 2:
                break
        closed = time.monotonic()
    assert edge.requested == ["cam-1"]
    edge.join(timeout=15)
    assert edge.answers[-1][1] is False, "the edge was never told to stop"
    assert edge.answers[-1][0] - closed < 5.0
    with services_of(live.app).sessions() as session:
        views = session.scalars(select(AuditEntry).where(AuditEntry.action == "live_view")).all()
    assert [(v.actor, v.target) for v in views] == [("supervisor A", "camera:site-a/cam-1")]


def test_a_push_for_a_camera_nobody_watches_is_answered_stop(live: LiveApi) -> None:
    answer = httpx.post(
        f"{live.url}/api/v1/ingest/live/cam-1",
        params={"site": "site-a"},
        content=jpeg(1),
        headers=live.as_("edge") | {"Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 200
    assert answer.json()["watching"] is False


@pytest.mark.parametrize(
    ("who", "site", "camera", "status"),
    [
        ("other_site", "site-a", "cam-1", 404),  # a viewer of another site
        ("supervisor", "site-b", "cam-1", 404),
        ("supervisor", "site-a", "cam-9", 404),  # a camera that never reported
        ("edge", "site-a", "cam-1", 403),  # an edge key is no viewer
    ],
)
def test_a_viewer_sees_only_the_cameras_of_their_sites(
    live: LiveApi, who: str, site: str, camera: str, status: int
) -> None:
    answer = httpx.get(live.live_url(site, camera), headers=live.as_(who), timeout=10)
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/ingest/live-requests?site=site-a&wait_s=0"),
        ("POST", "/api/v1/ingest/live/cam-1?site=site-a"),
    ],
)
def test_an_edge_box_streams_only_for_its_own_site(live: LiveApi, method: str, path: str) -> None:
    answer = httpx.request(method, live.url + path, headers=live.as_("edge_b"), content=jpeg(1), timeout=10)
    assert answer.status_code == 403, answer.text


def test_a_pushed_frame_must_be_a_jpeg(live: LiveApi) -> None:
    answer = httpx.post(
        f"{live.url}/api/v1/ingest/live/cam-1?site=site-a",
        content=b"GIF89a",
        headers=live.as_("edge"),
        timeout=10,
    )
    assert answer.status_code == 422


def test_one_viewer_more_than_allowed_is_refused_until_one_leaves(live: LiveApi) -> None:
    def status(client: httpx.Client) -> int:
        with client.stream("GET", live.live_url()) as answer:
            if answer.status_code == 429:
                assert "2 live viewers" in answer.read().decode()
            return answer.status_code

    with httpx.Client(headers=live.as_("supervisor"), timeout=10) as client:
        opening = client.stream("GET", live.live_url())  # kept: the stream closes when it is collected
        first = opening.__enter__()
        with client.stream("GET", live.live_url()) as second:
            assert (first.status_code, second.status_code) == (200, 200)
            assert status(client) == 429
            first.close()
            deadline = time.monotonic() + 5  # the API hears the first viewer leave within a second or so
            while status(client) == 429:
                assert time.monotonic() < deadline, "the viewer who left still counts"
                time.sleep(0.2)


async def _never() -> bool:
    return False


def test_a_long_poll_that_counts_a_camera_told_to_stop_as_sent_answers_at_once() -> None:
    """A new viewer arrives while the box's poll, sent before its camera was told to stop, still lists the
    camera as sent: the poll must not wait for its end to start it again."""

    async def scenario() -> tuple[list[str], float]:
        relay = LiveRelay(max_viewers=4, fps=2.0, width=640)
        relay.join("site-a", "cam-1")
        assert relay.push("site-a", "cam-1", jpeg(1), 1.0) == 1
        relay.leave("site-a", "cam-1")
        assert relay.push("site-a", "cam-1", b"", 2.0) == 0  # the box is told to stop
        relay.join("site-a", "cam-1")
        started = time.monotonic()
        cameras = await relay.requests("site-a", streaming={"cam-1"}, wait_s=5.0)
        return cameras, time.monotonic() - started

    cameras, took = run(scenario())
    assert cameras == ["cam-1"]
    assert took < 1.0


def test_a_long_poll_waits_for_a_camera_of_another_box() -> None:
    async def scenario() -> float:
        relay = LiveRelay(max_viewers=4, fps=2.0, width=640)
        relay.join("site-a", "cam-9")  # not this box's: it says so in streaming
        started = time.monotonic()
        assert await relay.requests("site-a", streaming={"cam-9"}, wait_s=0.5) == ["cam-9"]
        return time.monotonic() - started

    assert run(scenario()) >= 0.5


def test_a_live_view_ends_after_its_longest_time() -> None:
    async def scenario() -> tuple[int, float]:
        relay = LiveRelay(max_viewers=4, fps=2.0, width=640, max_view_s=0.3)
        relay.join("site-a", "cam-1")
        relay.push("site-a", "cam-1", jpeg(1), 1.0)
        started = time.monotonic()
        frames = [frame async for frame in relay.frames("site-a", "cam-1", gone=_never)]
        return len(frames), time.monotonic() - started

    count, took = run(scenario())
    assert count == 1
    assert 0.3 <= took < 2.0
