"""Video that every browser plays: H.264 in MP4, written through PyAV (FFmpeg's libx264 in its wheels).

OpenCV's ``VideoWriter`` cannot be used for this: the FFmpeg of the opencv-python wheels has no H.264
encoder, so what it writes is MPEG-4 part 2 (``mp4v``), which Chromium refuses
(``DEMUXER_ERROR_NO_SUPPORTED_STREAMS``), and it prints encoder-probing errors while it looks for one.
:func:`encode_mp4` writes the frames of an event clip; :func:`transcode` turns a stored clip in another
codec (what older edge boxes sent) into the same H.264 MP4; :func:`codec_of` says which a clip is.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

#: The encoder of clips and its MP4 settings: yuv420p and +faststart (the index first) so that a browser
#: starts playing before the whole file has arrived.
ENCODER = "libx264"
#: Codecs that browsers play inside MP4 (what :func:`playable` accepts as it is).
PLAYABLE = frozenset({"h264", "vp9", "av1"})
#: x264 settings: ``veryfast`` keeps a 10 s clip well under a second of one core; CRF 26 is sharp enough to
#: tell a helmet at 640 px; two threads so that a clip never takes the inference thread's cores.
_OPTIONS = {"preset": "veryfast", "crf": "26"}
_THREADS = 2


def encode_mp4(frames: Iterable[np.ndarray], fps: float, path: Path) -> int:
    """Write BGR ``frames`` (all of the first one's size, cropped to even sides) as an H.264 MP4 at ``fps``;
    the number of frames written."""
    rate = Fraction(fps).limit_denominator(1000)
    count, w, h = 0, 0, 0
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream: VideoStream | None = None
        for image in frames:
            if stream is None:
                h, w = image.shape[0] - image.shape[0] % 2, image.shape[1] - image.shape[1] % 2
                stream = cast(VideoStream, container.add_stream(ENCODER, rate=rate, options=_OPTIONS))
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.codec_context.thread_count = _THREADS
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="bgr24")
            container.mux(stream.encode(frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count


def encode_bytes(frames: Iterable[np.ndarray], fps: float) -> bytes | None:
    """The H.264 MP4 of ``frames`` as bytes (see :func:`encode_mp4`); ``None`` for no frames."""
    with tempfile.TemporaryDirectory(prefix="sitewatch-video-") as folder:
        path = Path(folder) / "clip.mp4"  # +faststart rewrites the file: a real file, not a buffer
        if encode_mp4(frames, fps, path) == 0:
            return None
        return path.read_bytes()


def codec_of(data: bytes) -> str | None:
    """FFmpeg's name of the video codec of the clip ``data`` (``h264``, ``mpeg4``...); ``None`` when it is
    not a video FFmpeg can read."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            streams = container.streams.video
            return streams[0].codec_context.name if streams else None
    except av.FFmpegError:
        return None


def playable(data: bytes) -> bool:
    """Whether browsers play the clip ``data`` as it is (its codec is one of :data:`PLAYABLE`)."""
    return codec_of(data) in PLAYABLE


def transcode(data: bytes) -> bytes:
    """The clip ``data`` (any codec FFmpeg decodes, e.g. the ``mp4v`` older edge boxes wrote) as an H.264
    MP4 of the same frames at the same average rate.

    Raises:
        ValueError: ``data`` is not a video, or has no frame.
    """
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise ValueError("the clip has no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 10)
            images = [frame.to_ndarray(format="bgr24") for frame in container.decode(stream)]
    except av.FFmpegError as exc:
        raise ValueError(f"the clip cannot be decoded: {exc}") from exc
    out = encode_bytes(images, fps)
    if out is None:
        raise ValueError("the clip has no frame")
    return out
