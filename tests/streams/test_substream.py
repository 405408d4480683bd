"""A camera's substream watched and its main stream kept for evidence (issue 26), and decoding only what
is needed: key frames only while the scene is still, only the looked-at frames of an intra-only stream,
hardware decoders tried and software said once.

The two-stream test runs the worker against a real RTSP server serving the same scene at 1280×720 (main)
and 640×360 (sub) in H.264, with the real models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from sitewatch.health_reporter import health_report
from streams import capture
from streams.capture import CaptureThread
from streams.capture_process import CaptureProcess
from streams.events import EventKind, EventUpdate, Phase
from streams.sinks import MemorySink
from streams.sources import SourceParams
from tests.streams.rtsp import RtspServer, free_port, require_gstreamer, write_frames
from tests.streams.test_worker_rtsp import PHOTOS, config_text
from tests.waiting import wait_for

SECRET = "Tr0ub4dor"
MAIN, SUB = (1280, 720), (640, 360)


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[RtspServer]:
    require_gstreamer()
    frames = write_frames(PHOTOS, tmp_path / "frames", size=720, width=1280)
    server = RtspServer(frames, fps=10, gop=20, mounts={"/main": MAIN, "/sub": SUB}).start()
    yield server
    server.stop()


def test_events_watch_the_substream_and_take_snapshots_from_the_main_stream(
    camera: RtspServer, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    main = camera.url_of("/main").replace("rtsp://", f"rtsp://admin:{SECRET}@")
    config = config_from_text(
        config_text(f'  gate: {{url: "{main}", detect_url: "{camera.url_of("/sub")}"}}')
    )
    sink = MemorySink()
    worker = build_worker(config, sink=sink, engine=engine)
    worker.start()
    try:
        ppe = (EventKind.NO_HELMET, EventKind.NO_VEST)
        main_stream = worker.cameras["gate"].main
        assert main_stream is not None

        def seen_with_main_stream(u: EventUpdate) -> bool:
            connected = main_stream.first_at
            return connected is not None and u.frame_time is not None and u.frame_time >= connected

        wait_for(
            lambda: any(
                u.phase is Phase.START and u.kind in ppe and seen_with_main_stream(u)
                for u in list(sink.updates)
            ),
            120,
            "a PPE event while the main stream is on",
        )
        _, _, detected = worker.cameras["gate"].capture.latest()
        health = worker.health()["gate"]
    finally:
        worker.stop()
    assert detected is not None and detected.shape[:2] == (SUB[1], SUB[0])  # detection saw the substream
    starts = [u for u in sink.updates if u.phase is Phase.START and u.kind in ppe]
    # Snapshots of frames seen before the main stream connected come from the substream, and say so.
    early = [u for u in starts if not seen_with_main_stream(u)]
    assert all(u.details["snapshot_from"] == "substream" for u in early)
    starts = [u for u in starts if u not in early]
    for update in starts:
        assert update.evidence is not None
        image = cv2.imdecode(np.frombuffer(update.evidence.snapshot, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (MAIN[1], MAIN[0], 3)  # the snapshot is the main stream's
        assert update.evidence.annotated != update.evidence.snapshot
        offset = update.details["main_stream_offset_ms"]
        assert isinstance(offset, int) and abs(offset) <= 1000, offset  # one frame apart, give or take
        assert "main_stream_offset_ms" in update.to_json()["details"]
    main_state = health["main_stream"]
    assert isinstance(main_state, dict)
    assert (
        main_state["online"] and main_state["size"] == list(MAIN) and main_state["snapshots"] >= len(starts)
    )
    assert SECRET not in caplog.text and SECRET not in str(health)


def test_a_missing_main_stream_is_reported_and_snapshots_fall_back_to_the_substream(
    tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    video = h264_file(tmp_path / "sub.mp4", frames=40)
    nowhere = f"rtsp://admin:{SECRET}@127.0.0.1:{free_port()}/main"
    config = config_from_text(config_text(f'  gate: {{url: "{nowhere}", detect_url: "{video}", loop: true}}'))
    worker = build_worker(config, sink=MemorySink(), engine=engine)
    worker.start()
    try:
        wait_for(lambda: worker.cameras["gate"].capture.health.online, 20, "the substream online")
        main = worker.cameras["gate"].main
        assert main is not None
        wait_for(lambda: main.health.reconnects >= 1, 20, "the main stream tried")
        report = health_report(worker, "test-site")
    finally:
        worker.stop()
    (item,) = report
    assert item["online"] is True  # detection goes on
    assert "main stream: cannot open main stream rtsp://***@127.0.0.1" in str(item["last_error"])
    assert SECRET not in str(report) and SECRET not in caplog.text


def h264_file(path: Path, *, frames: int, gop: int = 16, codec: str = "libx264") -> Path:
    """A small video of moving noise, a key frame every ``gop`` frames."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=Fraction(25))
        stream.width, stream.height = 320, 240
        stream.pix_fmt = "yuv420p" if codec == "libx264" else "yuvj420p"
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.codec_context.options = {
                "preset": "ultrafast",
                "keyint_min": str(gop),
                "sc_threshold": "0",
            }
        for _ in range(frames):
            image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def decoded_per_read(thread: CaptureThread | CaptureProcess, reads: int) -> tuple[int, int]:
    """Frames decoded and read while the thread reads ``reads`` more packets."""
    read0, decoded0 = thread.health.frames_read, thread.health.frames_decoded
    wait_for(lambda: thread.health.frames_read >= read0 + reads, 30, f"{reads} packets")
    return thread.health.frames_decoded - decoded0, thread.health.frames_read - read0


def reading(path: Path, **params: object) -> Callable[[], CaptureThread]:
    def start() -> CaptureThread:
        thread = CaptureThread("cam", SourceParams(url=str(path), loop=True, realtime=False, **params))  # type: ignore[arg-type]
        thread.start()
        return thread

    return start


def test_a_still_scene_decodes_key_frames_only(tmp_path: Path) -> None:
    thread = reading(h264_file(tmp_path / "v.mp4", frames=64, gop=16))()
    try:
        moving, moving_read = decoded_per_read(thread, 256)
        thread.idle = True
        seq = thread.latest()[0]
        still, still_read = decoded_per_read(thread, 256)
        assert thread.latest()[0] > seq  # key frames still reach the motion gate
        thread.idle = False
        again, again_read = decoded_per_read(thread, 256)
    finally:
        thread.stop()
        thread.join(10)
    assert moving >= moving_read - 2  # every frame while moving
    assert 0 < still <= still_read / 16 + 2  # one frame in 16 (a group of pictures) while still
    assert again >= again_read - 2


def test_an_intra_only_stream_decodes_only_the_frames_looked_at(tmp_path: Path) -> None:
    thread = reading(h264_file(tmp_path / "v.avi", frames=50, codec="mjpeg"), max_fps=5.0)()
    try:
        decoded, read = decoded_per_read(thread, 500)
    finally:
        thread.stop()
        thread.join(10)
    assert 0 < decoded < read / 2


def test_no_hardware_decoder_falls_back_to_software_with_one_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(capture, "hardware_decoders", lambda: ["no-such-device"])
    caplog.set_level(logging.INFO, logger="streams.capture")
    video = h264_file(tmp_path / "v.mp4", frames=8)
    params = SourceParams(url=str(video), realtime=False, backoff_initial_s=0.05, backoff_max_s=0.05)
    thread = CaptureThread("cam", params)  # no loop: it reopens the file at each end
    thread.start()
    try:
        wait_for(lambda: thread.health.reconnects >= 3, 30, "three reopenings")
    finally:
        thread.stop()
        thread.join(10)
    said = [r for r in caplog.records if "decoding in software" in r.getMessage()]
    assert len(said) == 1 and "no-such-device" in said[0].getMessage()
    assert thread.health.frames_decoded >= 8 and thread.health.decoder == "h264"


def test_this_box_decodes_on_its_hardware_or_says_once_it_cannot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="streams.capture")
    video = h264_file(tmp_path / "v.mp4", frames=8)
    params = SourceParams(url=str(video), realtime=False, backoff_initial_s=0.05, backoff_max_s=0.05)
    thread = CaptureThread("cam", params)
    thread.start()
    try:
        wait_for(lambda: thread.health.reconnects >= 2, 30, "two reopenings")
    finally:
        thread.stop()
        thread.join(10)
    said = [r for r in caplog.records if "decoding in software" in r.getMessage()]
    on_hardware = "(" in str(thread.health.decoder)  # e.g. "h264 (cuda)"
    assert len(said) == (0 if on_hardware else 1)


def test_a_capture_process_decodes_key_frames_only_while_still(tmp_path: Path) -> None:
    video = h264_file(tmp_path / "v.mp4", frames=64, gop=16)
    process = CaptureProcess("cam", SourceParams(url=str(video), loop=True, realtime=False), health_s=0.2)
    process.start()
    try:
        wait_for(lambda: process.health.frames_read > 0, 30, "the child reading")
        moving, moving_read = decoded_per_read(process, 1000)
        process.idle = True  # the flag the child reads
        time.sleep(0.5)  # a health report from after the change
        still, still_read = decoded_per_read(process, 1000)
    finally:
        process.stop()
        process.join(15)
    assert moving >= moving_read - 20
    assert 0 < still <= still_read / 4
