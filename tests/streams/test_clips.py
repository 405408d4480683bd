"""Event clips: a real worker's violation starts carry a playable MP4 of the seconds before them, made off
the inference thread, and each camera's frame ring stays within its memory bound.

Regression (issue 13, finding 16): the wire format, the outbox and the API took a clip, but no worker made
one.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from streams.clips import FrameRing, encode_clip
from streams.events import EventKind, EventUpdate, Phase
from streams.sinks import MemorySink
from tests.conftest import ROOT
from tests.waiting import wait_for

MB = 1024 * 1024


def test_a_real_worker_sends_a_playable_clip_with_each_violation_start(
    engine: Engine, tmp_path: Path
) -> None:
    config = config_from_text(
        f"""
site: {{id: demo}}
rules:
  no_helmet: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  no_vest: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  smoking: {{enabled: false}}
  cooldown_s: 2
cameras:
  gate: {{url: {ROOT / "configs" / "demo" / "site-demo.mp4"}, loop: true}}
"""
    )
    threads: list[str] = []
    sink = MemorySink(callback=lambda _update: threads.append(threading.current_thread().name))
    worker = build_worker(config, sink=sink, engine=engine)
    worker.start()
    ring = worker.cameras["gate"].capture.ring
    assert ring is not None

    def starts() -> list[EventUpdate]:
        kinds = (EventKind.NO_HELMET, EventKind.NO_VEST)
        return [u for u in list(sink.updates) if u.phase is Phase.START and u.kind in kinds]

    try:
        # A start at least 10 s into the run, when the ring holds a whole clip's worth.
        began = time.time()
        wait_for(
            lambda: any(u.started_at > began + 11 for u in starts()), 120, "a violation 10 s in", poll=0.2
        )
        assert ring.nbytes <= 60 * MB and len(ring) > 0
    finally:
        worker.stop()
    assert set(threads) == {"clips"}  # every update left from the clip thread, none from inference
    for update in starts():
        assert update.evidence is not None and update.evidence.clip is not None
        assert update.to_json()["evidence"]["clip_sha256"]
        clip = tmp_path / f"{update.event_id}.mp4"
        clip.write_bytes(update.evidence.clip)
        capture = cv2.VideoCapture(str(clip))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
        fps = capture.get(cv2.CAP_PROP_FPS)
        capture.release()
        assert len(frames) >= 2 and frames[0].shape[1] <= 640
        assert len(frames) / fps <= 10.5
        if update.started_at > began + 11:
            assert len(frames) / fps >= 8.0, f"{len(frames)} frames at {fps} fps"
    others = [u for u in sink.updates if u.phase is not Phase.START and u.evidence is not None]
    assert all(u.evidence.clip is None for u in others if u.evidence is not None)


@pytest.mark.parametrize(
    ("size", "fps", "pushed_s", "seconds", "max_bytes", "width"),
    [
        ((1080, 1920), 5, 30, 10.0, 60 * MB, 640),  # Full HD noise, 30 s: 10 s kept, downscaled
        ((2160, 3840), 25, 12, 10.0, 60 * MB, 3840),  # 4K noise kept at full size: the byte bound bites
        ((480, 640), 5, 20, 10.0, 1 * MB, 640),  # a small bound
    ],
)
def test_the_frame_ring_stays_within_its_bounds(
    size: tuple[int, int], fps: int, pushed_s: int, seconds: float, max_bytes: int, width: int
) -> None:
    ring = FrameRing(seconds, max_bytes, max_width=width, jpeg_quality=70)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (*size, 3), dtype=np.uint8)  # compresses worst
    for i in range(fps * pushed_s):
        ring.push(np.roll(noise, i, axis=1), 1000.0 + i / fps)
        assert ring.nbytes <= max_bytes
    frames = ring.window(1000.0 + pushed_s, pushed_s)
    assert frames and frames[-1][0] - frames[0][0] <= seconds
    first = cv2.imdecode(np.frombuffer(frames[0][1], np.uint8), cv2.IMREAD_COLOR)
    assert first is not None and first.shape[1] == min(width, size[1])


def test_a_clip_is_h264_in_mp4_with_every_frame_at_the_frames_rate() -> None:
    # Regression (issue 22): clips were MPEG-4 part 2 (OpenCV's FFmpeg has no H.264 encoder), which
    # Chromium refuses to play.
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (361, 641, 3), dtype=np.uint8)  # odd sides: cropped to even ones
    frames = [
        (1000.0 + i / 8, cv2.imencode(".jpg", np.roll(base, 5 * i, axis=1))[1].tobytes()) for i in range(41)
    ]
    clip = encode_clip(frames)
    assert clip is not None and clip[4:8] == b"ftyp"
    with av.open(io.BytesIO(clip)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert stream.average_rate == 8
        assert sum(1 for _ in container.decode(stream)) == 41
    assert clip.index(b"moov") < clip.index(b"mdat")  # +faststart: a browser plays before the end arrives
    assert encode_clip(frames[:1]) is None


def test_encoding_a_clip_prints_nothing() -> None:
    # Regression (issue 22): every worker start printed four lines of `h264_v4l2m2m ... Failed to
    # initialize VideoWriter` while OpenCV probed for an H.264 encoder.
    script = (
        "import numpy as np, cv2\n"
        "from streams.clips import encode_clip\n"
        "jpeg = cv2.imencode('.jpg', np.zeros((64, 64, 3), np.uint8))[1].tobytes()\n"
        "assert encode_clip([(float(i), jpeg) for i in range(5)])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
