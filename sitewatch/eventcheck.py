"""The event-level check (``sitewatch eval --events MANIFEST``): what a supervisor would receive.

A manifest lists photos, each labelled by hand with the violations a supervisor should receive while it is
on screen. The check composes a video of them (each photo held for ``seconds`` at ``fps``, swaying by a
few pixels as a real camera does, separated by
``gap`` seconds of an empty grey scene so that one photo's incident ends before the next begins), plays it
through the real worker (tracking, persistence, cooldown, evidence) at its own pace, and attributes each
event that starts to the photo its snapshot shows. Each (photo, kind) is then **right** (expected and
raised), **missing** (expected, not raised) or **wrong** (raised, not expected); a kind raised twice for one
photo counts once as right and once as a duplicate.

Manifest::

    fps: 10
    seconds: 6            # each photo on screen
    gap: 12               # empty scene between photos (longer than the rules' cooldown)
    size: [640, 640]      # frame size (photos are letterboxed into it)
    kinds: [no_helmet]    # the kinds the labels cover (default all); others are not scored
    segments:
      - {image: images/site-1.jpg, expect: [no_helmet, no_vest]}
      - {image: images/site-2.jpg, expect: []}

Image paths are relative to the manifest.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from detector.letterbox import letterbox
from detector.types import Violation
from sitewatch.config import CameraConfig, Config
from streams.events import Phase
from streams.sinks import MemorySink

logger = logging.getLogger(__name__)

#: The kinds a photo can be labelled with (the person-level violations).
VIOLATIONS = tuple(v.value for v in Violation)


class Segment(BaseModel):
    """One photo of the composed video and what it should raise."""

    model_config = ConfigDict(extra="forbid")
    image: Path
    expect: list[str] = Field(default_factory=list)


class Manifest(BaseModel):
    """A hand-labelled composed video (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")
    fps: float = Field(default=10.0, gt=0, le=30)
    seconds: float = Field(default=6.0, gt=0)
    gap: float = Field(default=12.0, ge=0)
    size: tuple[int, int] = (640, 640)
    kinds: list[str] = Field(default_factory=lambda: list(VIOLATIONS))
    segments: list[Segment]

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest; image paths become relative to its folder.

        Raises:
            ValueError: an unknown kind or a missing image, named.
        """
        manifest = cls.model_validate(yaml.safe_load(path.read_text()))
        for segment in manifest.segments:
            segment.image = (path.parent / segment.image).resolve()
            if not segment.image.is_file():
                raise ValueError(f"{path}: image {segment.image} not found")
            unknown = (set(segment.expect) | set(manifest.kinds)) - set(VIOLATIONS)
            if unknown:
                raise ValueError(f"{path}: {segment.image.name}: unknown kinds {sorted(unknown)}")
        return manifest

    @property
    def duration(self) -> float:
        """The composed video's length in seconds."""
        return len(self.segments) * (self.seconds + self.gap)


@dataclass
class EventCheck:
    """The outcome per kind: right, missing, wrong and duplicate events, and what each photo raised."""

    right: Counter[str] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    duplicate: Counter[str] = field(default_factory=Counter)
    raised: list[list[str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Counts per kind and the kinds raised per photo."""
        kinds = sorted(set(self.right) | set(self.missing) | set(self.wrong) | set(self.duplicate))
        return {
            "kinds": {
                k: {
                    "right": self.right[k],
                    "missing": self.missing[k],
                    "wrong": self.wrong[k],
                    "duplicate": self.duplicate[k],
                }
                for k in kinds
            },
            "raised_per_photo": self.raised,
        }


def _frame(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    framed, _ = letterbox(image, (size[1], size[0]))
    return framed


def _sway(frame: np.ndarray, t: float) -> np.ndarray:
    """The frame moved by a few pixels, as a hand-held or wind-shaken camera moves: a perfectly still
    picture would only be looked at every few seconds by the worker's motion gate."""
    dx, dy = 4.0 * np.sin(2 * np.pi * t / 2.0), 2.0 * np.cos(2 * np.pi * t / 3.0)
    shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    h, w = frame.shape[:2]
    moved: np.ndarray = cv2.warpAffine(frame, shift, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return moved


def compose(manifest: Manifest, out: Path) -> list[np.ndarray]:
    """Write the manifest's video to ``out`` (MP4); return each photo's frame, for attributing events."""
    width, height = manifest.size
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), manifest.fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {out}: no MP4 encoder in this OpenCV")
    blank = np.full((height, width, 3), 114, np.uint8)
    frames = []
    try:
        for segment in manifest.segments:
            image = cv2.imread(str(segment.image))
            if image is None:
                raise ValueError(f"cannot read image {segment.image}")
            frame = _frame(image, manifest.size)
            frames.append(frame)
            for i in range(round(manifest.seconds * manifest.fps)):
                writer.write(_sway(frame, i / manifest.fps))
            for _ in range(round(manifest.gap * manifest.fps)):
                writer.write(blank)
    finally:
        writer.release()
    return frames


def attribute(snapshot: bytes, frames: list[np.ndarray]) -> int:
    """The index of the photo an event's snapshot shows (the closest by mean pixel difference)."""
    picture = cv2.imdecode(np.frombuffer(snapshot, np.uint8), cv2.IMREAD_COLOR)
    if picture is None:
        raise ValueError("an event's snapshot is not a readable JPEG")
    small = cv2.resize(picture, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    distances = [
        float(np.abs(cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32) - small).mean())
        for f in frames
    ]
    return int(np.argmin(distances))


def score(manifest: Manifest, starts: Sequence[tuple[str, int]]) -> EventCheck:
    """Count right, missing, wrong and duplicate events from ``(kind, photo index)`` of each start."""
    check = EventCheck(raised=[[] for _ in manifest.segments])
    for kind, index in starts:
        check.raised[index].append(kind)
    for index, segment in enumerate(manifest.segments):
        raised = Counter(check.raised[index])
        for kind in manifest.kinds:
            if kind in segment.expect:
                if raised[kind]:
                    check.right[kind] += 1
                    if raised[kind] > 1:
                        check.duplicate[kind] += raised[kind] - 1
                else:
                    check.missing[kind] += 1
            elif raised[kind]:
                check.wrong[kind] += raised[kind]
    return check


def run_check(manifest: Manifest, config: Config, *, progress: bool = True) -> EventCheck:
    """Compose the video, play it through the real worker built from ``config``, and score the events.

    ``config``'s cameras are replaced by one camera playing the composed video once.
    """
    from sitewatch.edge import build_worker

    with tempfile.TemporaryDirectory(prefix="sitewatch-events-") as tmp:
        video = Path(tmp) / "composed.mp4"
        frames = compose(manifest, video)
        # The configuration's first camera lends its settings (zones, detect rate); its source is the video.
        first = next(iter(config.cameras.values()), None)
        spec = (first.model_dump() if first else {}) | {"url": str(video), "loop": False}
        config = config.model_copy(update={"cameras": {"check": CameraConfig.model_validate(spec)}})
        sink = MemorySink()
        worker = build_worker(config, sink=sink)
        worker.start()
        deadline = time.monotonic() + manifest.duration + 3.0
        try:
            while time.monotonic() < deadline:
                if progress:
                    left = deadline - time.monotonic()
                    print(f"\rplaying the composed video: {left:5.0f} s left", end="", flush=True)  # noqa: T201
                time.sleep(1.0)
        finally:
            worker.stop()
            if progress:
                print(flush=True)  # noqa: T201
    starts = [
        (u.kind.value, attribute(u.evidence.snapshot, frames))
        for u in sink.updates
        if u.phase is Phase.START and u.kind.value in VIOLATIONS and u.evidence is not None
    ]
    return score(manifest, starts)
