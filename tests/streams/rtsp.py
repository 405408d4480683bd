"""Starts the GStreamer RTSP server of ``rtsp_server.py`` for tests (Debian's python3 with GStreamer)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gstreamer_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
        ],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def require_gstreamer() -> None:
    """Skip outside CI when GStreamer's RTSP server is missing; fail in CI, where make test installs it."""
    if not gstreamer_available():
        if os.environ.get("CI"):
            pytest.fail("GStreamer RTSP server not installed (make test installs it)")
        pytest.skip("GStreamer RTSP server not installed")


def write_frames(
    images: list[Path], folder: Path, per_image: int = 25, size: int = 640, width: int | None = None
) -> Path:
    """JPEG frames: each image held for ``per_image`` frames with a small sway, like a real camera;
    ``size`` square, or centred on a grey ``width`` × ``size`` frame (16:9 cameras)."""
    folder.mkdir(parents=True, exist_ok=True)
    index = 0
    for path in images:
        image = cv2.resize(cv2.imread(str(path)), (size, size))
        if width is not None and width > size:
            left = (width - size) // 2
            image = cv2.copyMakeBorder(
                image, 0, 0, left, width - size - left, cv2.BORDER_CONSTANT, value=(114, 114, 114)
            )
        for i in range(per_image):
            matrix = np.float32([[1, 0, 4 * np.sin(i / 2)], [0, 1, 3 * np.cos(i / 3)]])
            frame = cv2.warpAffine(
                image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT
            )
            cv2.imwrite(str(folder / f"frame-{index:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
            index += 1
    return folder


class RtspServer:
    """One RTSP mount at ``rtsp://127.0.0.1:<port>/<path>`` streaming a folder of JPEG frames (MJPEG); or,
    with ``mounts`` (path to ``(width, height)``), a camera's streams at those sizes in H.264, the same
    scene at the same moment (:meth:`url_of`)."""

    def __init__(
        self,
        frames: Path,
        *,
        port: int | None = None,
        path: str = "/gate",
        fps: int = 5,
        mounts: dict[str, tuple[int, int]] | None = None,
        gop: int = 10,
    ) -> None:
        self.frames = frames
        self.port = port or free_port()
        self.path = path
        self.fps = fps
        self.mounts = mounts or {}
        self.gop = gop
        self.url = f"rtsp://127.0.0.1:{self.port}{path}"
        self.process: subprocess.Popen[str] | None = None

    def url_of(self, path: str) -> str:
        """The address of one of ``mounts``."""
        return f"rtsp://127.0.0.1:{self.port}{path}"

    def start(self) -> RtspServer:
        self.process = subprocess.Popen(
            [
                SYSTEM_PYTHON,
                str(SERVER),
                "--port",
                str(self.port),
                "--path",
                self.path,
                "--frames",
                str(self.frames),
                "--fps",
                str(self.fps),
                "--gop",
                str(self.gop),
                *(arg for path, (w, h) in self.mounts.items() for arg in ("--mount", f"{path}={w}x{h}")),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "READY":
            error = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"RTSP server did not start: {line} {error}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
