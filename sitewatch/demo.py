"""The demo video: a short clip built from real site photos, so ``make run`` has violations to show.

The photos come from the test split of "Construction Site Safety" (Roboflow Universe, CC BY 4.0), kept
in ``configs/demo/images``. Each is held for a few seconds with a slow zoom, so that the motion gate and
the tracker see a moving scene, as from a camera.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


def build_demo_video(
    images: Sequence[Path], out: Path, *, fps: int = 10, seconds: float = 6.0, size: int = 640
) -> int:
    """Write an MP4 (``mp4v``) that shows each image for ``seconds`` with a slow zoom; return its frames.

    Raises:
        ValueError: an image cannot be read, or the video cannot be written.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (size, size))
    if not writer.isOpened():
        raise ValueError(f"cannot write {out}")
    frames = 0
    per_image = round(fps * seconds)
    try:
        for path in images:
            image = cv2.imread(str(path))
            if image is None:
                raise ValueError(f"cannot read {path}")
            image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
            for i in range(per_image):
                # A slow zoom plus a hand-held sway of a few pixels: enough change between frames for the
                # motion gate, small enough for the tracker to keep its tracks.
                t = i / fps
                zoom = 1.0 + 0.08 * i / per_image
                matrix = cv2.getRotationMatrix2D((size / 2, size / 2), 0.0, zoom)
                matrix[0, 2] += 8.0 * np.sin(2 * np.pi * 0.7 * t)
                matrix[1, 2] += 5.0 * np.sin(2 * np.pi * 0.45 * t + 1.0)
                writer.write(cv2.warpAffine(image, matrix, (size, size), borderMode=cv2.BORDER_REFLECT))
                frames += 1
    finally:
        writer.release()
    return frames


def sample_frames(video: Path, every: int = 1) -> list[np.ndarray]:
    """Decode every ``every``-th frame of a video (tests and benchmarks)."""
    cap = cv2.VideoCapture(str(video))
    frames, index = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(frame)
        index += 1
    cap.release()
    return frames
