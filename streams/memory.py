"""The false-alarm memory of the edge: what supervisors rejected, per camera and kind, and the test that
suppresses a new detection matching it.

An entry is where in the frame the rejected person was (a box normalised to the frame, ``x1, y1, x2, y2``
in 0..1) and what they looked like: an appearance *signature* of the person crop, a 4x4x4 colour histogram
(64 bins over B, G, R) of which each value is the square root of the bin's share of the crop's pixels. It
has unit length, so the similarity of two signatures is their dot product, the Bhattacharyya coefficient
of the two histograms: 1.0 for the same colours, near 0 for different ones. A new detection is suppressed
when its box overlaps an unexpired entry's box by ``iou`` or more *and* its signature is at least
``similarity`` alike: the same poster, mannequin or cone in the same place, while a real person in a
different place, or in different clothes in the same place, still counts.

The memory is replaced as a whole when the edge fetches it again from the central API
(``GET /api/v1/sites/{site}/false-alarms``), so matching threads never see it half updated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cv2
import numpy as np

logger = logging.getLogger(__name__)

#: Bins per colour channel of a signature: 4 ** 3 = 64 values.
BINS = 4
SIGNATURE_SIZE = BINS**3

Box = tuple[float, float, float, float]


def normalised_box(box: Any, frame_shape: tuple[int, ...]) -> Box:
    """A pixel box ``x1, y1, x2, y2`` as shares of the frame's width and height, clipped to 0..1."""
    h, w = frame_shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    return (
        round(min(max(x1 / w, 0.0), 1.0), 4),
        round(min(max(y1 / h, 0.0), 1.0), 4),
        round(min(max(x2 / w, 0.0), 1.0), 4),
        round(min(max(y2 / h, 0.0), 1.0), 4),
    )


def signature(frame: np.ndarray, box: Any) -> list[float]:
    """The appearance signature of the crop ``box`` (pixels) of a BGR ``frame``: 64 floats of unit length
    (all zeros for an empty crop)."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
    if x2 <= x1 or y2 <= y1:
        return [0.0] * SIGNATURE_SIZE
    crop = np.ascontiguousarray(frame[y1:y2, x1:x2])
    hist = cv2.calcHist([crop], [0, 1, 2], None, [BINS] * 3, [0, 256] * 3).ravel()
    shares = hist / max(float(hist.sum()), 1.0)
    return [round(float(v), 4) for v in np.sqrt(shares)]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes ``x1, y1, x2, y2``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def similarity(a: list[float], b: list[float]) -> float:
    """How alike two signatures are, 0..1 (their dot product; both have unit length)."""
    if len(a) != len(b):
        return 0.0
    return float(np.dot(np.asarray(a, np.float64), np.asarray(b, np.float64)))


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    """One rejected detection: camera, kind, where and what, until when (epoch seconds)."""

    id: int
    camera_id: str
    kind: str
    box: Box
    signature: list[float]
    expires_at: float

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> MemoryEntry:
        """An entry as the API lists it (``FalseAlarmPublic``)."""
        x1, y1, x2, y2 = (float(v) for v in item["box"])
        return cls(
            id=int(item["id"]),
            camera_id=str(item["camera_id"]),
            kind=str(item["kind"]),
            box=(x1, y1, x2, y2),
            signature=[float(v) for v in item["signature"]],
            expires_at=datetime.fromisoformat(str(item["expires_at"])).timestamp(),
        )


@dataclass(frozen=True, slots=True)
class MatchParams:
    """How close a detection must be to an entry to be suppressed."""

    iou: float = 0.5
    similarity: float = 0.8


class FalseAlarmMemory:
    """The site's false-alarm entries, grouped by camera and kind, replaced as a whole by :meth:`replace`.

    Example:
        >>> sig = [1.0] + [0.0] * 63
        >>> memory = FalseAlarmMemory()
        >>> memory.replace([MemoryEntry(1, "gate", "no_helmet", (0.1, 0.1, 0.3, 0.6), sig, 2e9)])
        >>> memory.matches("gate", "no_helmet", (0.1, 0.1, 0.3, 0.6), sig, now=1e9)
        True
    """

    def __init__(self, params: MatchParams | None = None) -> None:
        self.params = params or MatchParams()
        self._entries: dict[tuple[str, str], list[MemoryEntry]] = {}

    def replace(self, entries: list[MemoryEntry]) -> None:
        """Hold exactly ``entries`` from now on."""
        grouped: dict[tuple[str, str], list[MemoryEntry]] = {}
        for entry in entries:
            grouped.setdefault((entry.camera_id, entry.kind), []).append(entry)
        self._entries = grouped

    def entries(self, camera_id: str, kind: str) -> list[MemoryEntry]:
        """The entries of one camera and kind (expired ones included)."""
        return self._entries.get((camera_id, kind), [])

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())

    def candidates(self, camera_id: str, kind: str, box: Box, now: float) -> list[MemoryEntry]:
        """Unexpired entries of the camera and kind whose box overlaps ``box`` enough (the cheap test)."""
        return [
            e
            for e in self.entries(camera_id, kind)
            if e.expires_at > now and iou(e.box, box) >= self.params.iou
        ]

    def matches(self, camera_id: str, kind: str, box: Box, sig: list[float], now: float) -> bool:
        """Whether a detection (normalised ``box``, signature ``sig``) matches an unexpired entry."""
        return any(
            similarity(e.signature, sig) >= self.params.similarity
            for e in self.candidates(camera_id, kind, box, now)
        )
