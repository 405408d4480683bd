"""Camera addresses with credentials: parsed as URLs, never shown with their secrets, checked by check-config.

Regression (issue 13, finding 21): a password with an ``@`` was cut at the first ``@``, so its tail showed
in logs, camera health and ``camera_offline``; a ``#`` or ``/`` in it made the address unusable while
check-config called it valid, as it did a sink URL without a scheme and a working day that starts when
it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from streams.events import EventKind, Phase
from streams.sinks import MemorySink
from streams.sources import redact_url, stream_url, url_problem
from tests.sitewatch.test_cli import sitewatch
from tests.streams.rtsp import RtspServer, free_port, require_gstreamer, write_frames
from tests.streams.test_worker_rtsp import PHOTOS, config_text
from tests.waiting import wait_for

SECRET = "Tr0ub4dor"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"rtsp://admin:{SECRET}@10.0.0.5:554/live", "rtsp://***@10.0.0.5:554/live"),
        (f"rtsp://admin:{SECRET}@x@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        (f"rtsp://admin:{SECRET}#x@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        (f"rtsp://admin:{SECRET}/x@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        (f"rtsp://admin:{SECRET}%40x@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        (
            f"rtsp://10.0.0.5/live?user=admin&password={SECRET}",
            "rtsp://10.0.0.5/live?user=admin&password=***",
        ),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("configs/demo/site-demo.mp4", "configs/demo/site-demo.mp4"),
    ],
)
def test_redact_url_hides_every_credential(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("url", "opened", "problem"),
    [
        ("rtsp://admin:p@ss@h/x", "rtsp://admin:p%40ss@h/x", None),
        ("rtsp://admin:p%23ss@h:554/x", "rtsp://admin:p%23ss@h:554/x", None),
        ("rtsp://admin:p#ss@h/x", None, "'#' ends the address"),
        ("rtsp://admin:p/ss@h/x", None, "'@' after the host"),
        ("rtsp://admin:p?ss@h/x", None, "'@' after the host"),
        ("rtsp://admin:p:w@h:rtsp/x", None, "the port is not a number"),
        ("rstp://h/x", None, "unsupported scheme 'rstp'"),
        ("rtsp:///x", None, "no host"),
        ("0", "0", None),
    ],
)
def test_camera_urls_are_parsed_as_urls(url: str, opened: str | None, problem: str | None) -> None:
    found = url_problem(url)
    if problem is None:
        assert found is None
        assert stream_url(url) == opened
    else:
        assert found is not None and problem in found


CHECKS = [
    # (YAML, exit status, what the output says (file:line: key: ...))
    (f'cameras:\n  gate: {{url: "rtsp://admin:{SECRET}@x@10.0.0.5/live"}}\n', 0, "valid (site demo"),
    (f'cameras:\n  gate: {{url: "rtsp://admin:{SECRET}%23x@10.0.0.5/live"}}\n', 0, "valid (site demo"),
    (
        f'cameras:\n  gate: {{url: "rtsp://admin:{SECRET}#x@10.0.0.5/live"}}\n',
        2,
        "c.yaml:3: cameras.gate.url:",
    ),
    (
        f'cameras:\n  gate: {{url: "rtsp://admin:{SECRET}/x@10.0.0.5/live"}}\n',
        2,
        "c.yaml:3: cameras.gate.url:",
    ),
    # A substream (issue 26): checked as url is, and named by its own key.
    (
        f'cameras:\n  gate:\n    url: "rtsp://admin:{SECRET}@x@10.0.0.5/main"\n'
        f'    detect_url: "rtsp://admin:{SECRET}@x@10.0.0.5/sub"\n',
        0,
        "valid (site demo, cameras: gate (main stream and substream))",
    ),
    (
        f'cameras:\n  gate:\n    url: "rtsp://10.0.0.5/main"\n    detect_url: "rtsp://admin:{SECRET}#x@10.0.0.5/sub"\n',
        2,
        "c.yaml:5: cameras.gate.detect_url: Value error, '#' ends the address",
    ),
    (
        'cameras:\n  gate:\n    url: "rtsp://10.0.0.5/main"\n    detect_url: "rstp://10.0.0.5/sub"\n',
        2,
        "c.yaml:5: cameras.gate.detect_url: Value error, unsupported scheme 'rstp'",
    ),
    ('cameras:\n  gate: {url: "0", detect_url: "rtsp://10.0.0.5/sub"}\n', 2, "a USB camera has one stream"),
    ("sink: {type: http, url: 'central:8000'}\n", 2, "c.yaml:2: sink.url: Value error, expected an http://"),
    ("sink: {type: http, url: 'http://'}\n", 2, "c.yaml:2: sink.url:"),
    ("schedule:\n  start: '08:00'\n  end: '08:00'\n", 2, "c.yaml:2: schedule: Value error, start and end"),
    ("schedule: {start: '22:00', end: '06:00'}\n", 0, "valid (site demo"),
]


@pytest.mark.parametrize(("text", "status", "message"), CHECKS)
def test_check_config_catches_what_cannot_work(tmp_path: Path, text: str, status: int, message: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("site: {id: demo}\n" + text)
    result = sitewatch("check-config", config)
    output = result.stdout + result.stderr
    assert result.returncode == status, output
    assert message in output
    assert SECRET not in output


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[RtspServer]:
    require_gstreamer()
    server = RtspServer(write_frames(PHOTOS[:1], tmp_path / "frames", per_image=10)).start()
    yield server
    server.stop()


def test_a_password_with_at_signs_is_used_and_never_shown(
    stream: RtspServer, engine: Engine, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    password = f"{SECRET}@x%23y"  # a raw '@' and an encoded '#'
    gate = stream.url.replace("rtsp://", f"rtsp://admin:{password}@")
    nowhere = f"rtsp://admin:{password}@127.0.0.1:{free_port()}/none"
    config = config_from_text(
        config_text(
            f'  gate: {{url: "{gate}", offline_after_s: 1}}\n'
            f'  nowhere: {{url: "{nowhere}", offline_after_s: 1}}'
        )
    )
    sink = MemorySink()
    worker = build_worker(config, sink=sink, engine=engine)
    worker.start()
    try:
        camera = worker.cameras["gate"]
        wait_for(lambda: camera.stats.processed > 0, 60, "frames through the address with credentials")
        stream.stop()
        for name in ("gate", "nowhere"):
            wait_for(
                lambda n=name: any(  # type: ignore[misc]
                    u.kind is EventKind.CAMERA_OFFLINE and u.camera_id == n for u in list(sink.updates)
                ),
                30,
                f"{name} offline",
            )
        wait_for(
            lambda: "cannot open" in str(worker.health()["gate"]["last_error"]), 30, "a failed reconnect"
        )
        health = worker.health()
    finally:
        worker.stop()
    offline = [u for u in sink.updates if u.kind is EventKind.CAMERA_OFFLINE and u.phase is Phase.START]
    assert "rtsp://***@127.0.0.1" in str(health["nowhere"]["last_error"])
    shown = [str(health), *(u.body() for u in offline), caplog.text, *capfd.readouterr()]
    for text in shown:
        assert SECRET not in text and "x%23y" not in text and "@x" not in text
