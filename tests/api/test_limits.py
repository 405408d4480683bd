"""Bounds on what one request may cost: body sizes, validation answers (issue 13, findings 1-3)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.guards import BODY_LIMIT
from api.http.services import services_of
from api.officers.face_models import FACE_MODELS
from api.ops.serve import server_config
from api.reports.brief_file import PDF_TURNS
from tests.api.builders import JPEG, event
from tests.api.conftest import ADMIN_KEY, Api
from tests.streams.rtsp import free_port
from tests.waiting import wait_for

BIG = 20 * 2**20


def _chunks(total: int, size: int = 2**16) -> Iterator[bytes]:
    """A JSON-looking body of ``total`` bytes, sent without a Content-Length (chunked)."""
    yield b'{"username": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'", "password": "x"}'


@pytest.mark.parametrize(
    ("path", "content", "headers"),
    [
        ("/api/v1/auth/login", b'{"username": "' + b"a" * BIG + b'"}', {"Content-Type": "application/json"}),
        ("/api/v1/auth/login", b"x" * (BODY_LIMIT + 1), {"Content-Type": "text/plain"}),
        # a chunked body is a fresh generator per run: the table is shared by the SQLite and PostgreSQL runs
        ("/api/v1/auth/login", lambda: _chunks(BIG), {"Content-Type": "application/json"}),
        ("/api/v1/users", lambda: _chunks(BODY_LIMIT + 10), {"Content-Type": "application/json"}),
        (
            "/api/v1/events/evt-1/review",
            lambda: _chunks(2 * BODY_LIMIT),
            {"Content-Type": "application/json"},
        ),
        (
            "/api/v1/ingest/events",
            b"x" * (BODY_LIMIT + 1),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ],
    ids=["declared-json", "declared-other", "chunked-login", "chunked-users", "chunked-review", "form"],
)
def test_a_body_over_the_limit_is_refused_with_413(
    api: Api, path: str, content: bytes | Callable[[], Iterator[bytes]], headers: dict[str, str]
) -> None:
    body = content if isinstance(content, bytes) else content()
    response = api.client.post(path, content=body, headers=headers | api.as_("admin"))
    assert response.status_code == 413
    assert str(BODY_LIMIT) in response.json()["detail"]
    assert len(response.content) < 1000
    assert api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/login", {"username": "u" * 5000, "password": "secret-password-echo"}),
        ("/api/v1/auth/login", {"username": ["secret-password-echo"] * 1000, "password": 1}),
        ("/api/v1/users", {"username": "x", "password": "secret-password-echo", "role": "emperor"}),
    ],
    ids=["long", "wrong-type", "bad-role"],
)
def test_a_422_never_echoes_the_input(api: Api, path: str, body: dict[str, object]) -> None:
    response = api.client.post(path, json=body, headers=api.as_("admin"))
    assert response.status_code == 422
    text = response.text
    assert "secret-password-echo" not in text and "u" * 100 not in text
    assert all(set(e) == {"type", "loc", "msg"} for e in json.loads(text)["detail"])


def test_a_body_within_the_limit_still_works(api: Api) -> None:
    body = {"verdict": "confirmed", "note": "n" * 1000}
    # 404: the event does not exist, but the body was read and validated
    assert (
        api.client.post("/api/v1/events/evt-1/review", json=body, headers=api.as_("supervisor")).status_code
        == 404
    )


@dataclass
class Live:
    """The API under uvicorn, as ``sitewatch api`` serves it, on a free port."""

    app: FastAPI
    port: int
    keys: dict[str, str]

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=tmp_path,
        admin_key=ADMIN_KEY,
        large_uploads=2,
        upload_wait_s=0.5,
        body_timeout_s=1.0,
    )
    app = create_app(settings, dispatch=False)
    with services_of(app).sessions() as session:
        keys = {
            name: create_key(session, name=name, role="edge", site_ids=["site-a"])
            for name in ("edge", "edge2", "edge3")
        }
    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, header_timeout_s=1.0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=30, what="uvicorn")
    try:
        yield Live(app, port, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services_of(app).engine.dispose()


def _closed_after(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    start = time.monotonic()
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - start


@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        (b"", b""),  # connects and says nothing
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b""),  # headers that never end
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n", b"HTTP/1.1 200"),  # then again
        (
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"user',  # a body that stops
            b"HTTP/1.1 408",
        ),
    ],
    ids=["silent", "slow-headers", "slow-second-request", "slow-body"],
)
def test_slow_clients_are_cut_off(live: Live, sent: bytes, answer: bytes) -> None:
    with live.connect() as sock:
        sock.sendall(sent)
        data, took = _closed_after(sock)
    assert data.startswith(answer) and took < 5.0, (data[:200], took)


def _multipart_head(key: str, length: int) -> bytes:
    return (
        f"POST /api/v1/ingest/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\n\r\n--b\r\n"
    ).encode()


def test_large_uploads_take_turns(live: Live) -> None:
    uploads = [live.connect() for _ in range(2)]
    for sock, key in zip(uploads, ("edge", "edge2"), strict=True):  # one turn each (per_caller)
        sock.sendall(_multipart_head(live.keys[key], 10 * 2**20))
    time.sleep(0.2)
    with live.connect() as third:
        third.sendall(_multipart_head(live.keys["edge3"], 10 * 2**20))
        data, _ = _closed_after(third)
    assert data.startswith(b"HTTP/1.1 503") and b"retry-after: 5" in data.lower(), data[:300]
    with live.connect() as small:  # small bodies do not wait
        small.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _closed_after(small)[0].startswith(b"HTTP/1.1 200")
    for sock in uploads:  # and the stalled uploads are dropped in time
        assert _closed_after(sock)[0].startswith(b"HTTP/1.1 408")
        sock.close()


def _chunked_head(path: str, kind: str, key: str | None) -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: {kind}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()


def _upload(live: Live, key: str, snapshot: bytes) -> int:
    body = event(evidence={"snapshot_sha256": hashlib.sha256(snapshot).hexdigest()})
    response = httpx.post(
        f"http://127.0.0.1:{live.port}/api/v1/ingest/events",
        data={"event": json.dumps(body)},
        files={"snapshot": ("snapshot.jpg", snapshot, "image/jpeg")},
        headers={"Authorization": f"Bearer {live.keys[key]}"},
        timeout=30,
    )
    return response.status_code


def test_nobody_without_a_key_holds_an_upload_turn(live: Live) -> None:
    # Issue 24, item 2: four sockets trickling chunked bodies (a log-in's JSON, an upload without a key)
    # held all the turns, and an edge box's upload of a 1.27 MB snapshot got 503 after 10 s.
    anonymous = []
    for _ in range(2):
        sock = live.connect()
        sock.sendall(_chunked_head("/api/v1/ingest/events", "multipart/form-data; boundary=b", None))
        anonymous.append(sock)
    logins = []
    for _ in range(2):  # small bodies: bounded and counted, they never take a turn
        sock = live.connect()
        sock.sendall(_chunked_head("/api/v1/auth/login", "application/json", None) + b"1\r\n{\r\n")
        logins.append(sock)
    for sock in anonymous:  # refused before their body is read
        data, took = _closed_after(sock)
        assert data.startswith(b"HTTP/1.1 401") and took < 1.0, data[:200]
        sock.close()
    snapshot = JPEG + bytes(1_270_000)  # a JPEG with trailing bytes, as large as the one refused before
    assert _upload(live, "edge", snapshot) == 201
    for sock in logins:
        sock.close()


def test_one_caller_holds_at_most_its_share_of_the_turns(live: Live) -> None:
    with live.connect() as first:
        first.sendall(_multipart_head(live.keys["edge"], 10 * 2**20))
        time.sleep(0.2)
        with live.connect() as second:
            second.sendall(_multipart_head(live.keys["edge"], 10 * 2**20))
            data, _ = _closed_after(second)
        assert data.startswith(b"HTTP/1.1 429") and b"retry-after: 5" in data.lower(), data[:300]
        assert _upload(live, "edge2", JPEG) == 201  # another caller's turn is free


def test_an_upload_that_trickles_is_cut_off(live: Live) -> None:
    # One byte every half second never pauses for body_timeout_s (1 s here), but averages 2 bytes/s.
    with live.connect() as sock:
        sock.sendall(_multipart_head(live.keys["edge"], 10 * 2**20))
        sock.settimeout(0.5)
        start = time.monotonic()
        data = b""
        while time.monotonic() - start < 20:
            try:
                sock.sendall(b"x")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 408") and b"too slowly" in data, data[:200]
    assert time.monotonic() - start < 12  # at the rate's check (5 s), not at the 600 s a body may take


class SlowFaces:
    """A face model that takes its time and sees one face in any photo, noting the sizes it was shown."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def faces(self, image: np.ndarray) -> list[Any]:
        self.sizes.append(image.shape[:2])
        time.sleep(0.4)
        return [SimpleNamespace(embedding=np.ones(512, np.float32) / np.sqrt(512))]


def _photo(width: int, height: int) -> bytes:
    return bytes(cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))[1].tobytes())


def _enrol(api: Api, photos: list[bytes]) -> Any:
    files = [("photos", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    return api.client.post(
        "/api/v1/sites/site-a/officers", data={"name": "li"}, files=files, headers=api.as_("supervisor")
    )


def test_enrolment_runs_off_the_event_loop_on_shrunk_photos(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEWATCH_FACE_KEY", Fernet.generate_key().decode())
    faces = SlowFaces()
    services_of(api.app).get(FACE_MODELS).use(faces)
    with ThreadPoolExecutor(max_workers=1) as pool:
        enrolment = pool.submit(_enrol, api, [_photo(4000, 4000), _photo(640, 480)] * 2)
        time.sleep(0.3)
        start = time.monotonic()
        assert api.client.get("/healthz").status_code == 200
        took = time.monotonic() - start
        response = enrolment.result()
    assert response.status_code == 201, response.text
    assert took < 0.4, took
    assert faces.sizes == [(2048, 2048), (480, 640)] * 2


@pytest.mark.parametrize(
    ("photos", "status", "reason"),
    [
        ([_photo(64, 64)] * 21, 413, "at most 20"),
        ([_photo(7500, 7500)], 422, "megapixels"),
        ([b"\xff\xd8<html><script>alert(1)</script>"], 422, "cannot read"),
    ],
    ids=["too-many", "too-many-pixels", "not-an-image"],
)
def test_enrolment_photos_are_bounded(
    api: Api, monkeypatch: pytest.MonkeyPatch, photos: list[bytes], status: int, reason: str
) -> None:
    monkeypatch.setenv("SITEWATCH_FACE_KEY", Fernet.generate_key().decode())
    faces = SlowFaces()
    services_of(api.app).get(FACE_MODELS).use(faces)
    response = _enrol(api, photos)
    assert response.status_code == status and reason in response.text, response.text
    assert faces.sizes == []


def test_pdf_briefs_are_printed_two_at_a_time(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    running, most = [0], [0]
    lock = threading.Lock()

    def slow_print(html: str, **_: Any) -> bytes:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.6)
        with lock:
            running[0] -= 1
        return b"%PDF-1.4"

    monkeypatch.setattr("api.reports.brief_file.render_pdf", slow_print)
    services_of(api.app).get(PDF_TURNS).wait_s = 0.2

    def brief(_: int) -> Any:
        return api.client.get("/api/v1/briefs?period=2026-W10&format=pdf", headers=api.as_("viewer"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(brief, range(6)))
    codes = sorted(a.status_code for a in answers)
    assert most[0] <= 2 and codes.count(200) >= 2 and set(codes) <= {200, 503}, codes
    assert all(a.headers.get("Retry-After") for a in answers if a.status_code == 503)


POLYGLOT = b"\xff\xd8\xff\xe0<html><body><script>alert(document.cookie)</script></body></html>"


def test_a_jpeg_prefixed_html_polyglot_is_not_stored(api: Api) -> None:
    from tests.api.builders import event, post

    response = post(api, event(), files={"snapshot": POLYGLOT})
    assert response.status_code == 422 and "not a JPEG" in response.text


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/healthz", None),
        ("/api/v1/events", "viewer"),
        ("/api/v1/events/evt-00000001/snapshot", "viewer"),
        ("/ui/main.js", None),
        ("/api/v1/nothing-here", "viewer"),
        ("/openapi.json", None),
        ("/docs", None),
        ("/api/v1/briefs?period=2026-W10", "viewer"),
    ],
)
def test_every_response_says_nosniff(api: Api, path: str, who: str | None) -> None:
    from tests.api.builders import ANNOTATED, JPEG, event, post

    assert post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED}).status_code == 201
    response = api.client.get(path, headers=api.as_(who) if who else {})
    assert response.headers.get("X-Content-Type-Options") == "nosniff", (response.status_code, path)


@pytest.mark.parametrize("path", ["/api/v1/briefs?period=2026-W10", "/docs"])
def test_html_pages_have_a_policy_and_nothing_from_elsewhere(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.as_("viewer"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src" in policy and "frame-ancestors 'none'" in policy
    assert "cdn" not in response.text.lower() and "https://" not in response.text
