"""The zoomed second look at bare heads: before a person is flagged without a hard hat, the PPE model looks
again at a square around their head, enlarged to its input, and the flag stands only if it sees a bare
head there.

At a camera's distance a head is 20-40 pixels, and a dark or half-hidden hard hat at that size reads as a
bare head (most false ``no_helmet`` flags of ``hhw/valid`` are such heads, ``models/README.md``). The
same model, given the head at three times the size with its shoulders around it, gets most of them right:
the flag is kept when it finds a ``no_helmet`` box scored at least ``confirm`` in the person's head band,
and the person's helmet goes back to ``unknown`` otherwise (the zoomed look did not find a bare head; it
need not have found a hard hat either). The second look runs only for flagged people, so a frame without
a violation costs nothing more.

On a camera, a bare-headed worker in view would pay the look on every frame he is in; a camera pipeline
keeps each track's verdict for ``hold_s`` seconds instead (:class:`ZoomMemory`), and the engine looks
only at the tracks whose verdict is due (:meth:`ZoomStage.check` with ``only``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import supervision as sv

from detector.backends.interface import DetectorBackend
from detector.decode import DecodeParams
from detector.ppe import Bands, coverage, people_bands
from detector.timing import StageTimer
from detector.types import CLASS_NAME, HELMET, Attr

#: Data key on people: the best ``no_helmet`` score of the zoomed look in their head band (``nan`` where
#: it did not look: people not flagged, or over the frame's budget).
ZOOM_BARE_SCORE = "zoom_bare_score"


@dataclass(frozen=True, slots=True)
class ZoomParams:
    """How the zoomed look decides.

    Attributes:
        enabled: look again at all (off: every stage's flag stands).
        context: side of the zoomed square as a multiple of the head band's longer side.
        confirm: the least ``no_helmet`` score in the head band of the zoomed square that keeps the flag.
        max_people: most flagged people looked at again in one frame (the smallest heads first); the
            others keep their flags, so a crowd never loses an alarm to the budget.
        skip_grey: leave the flags of a frame without colour (a camera's infrared mode) as they are: there
            the zoomed look withdrew many right flags on the valid splits (``models/README.md``).
        hold_s: on a camera, how long (seconds of frame time) a tracked person's verdict stands before
            the next look (:class:`ZoomMemory`); 0 looks on every frame. Photos are looked at each time.
    """

    enabled: bool = True
    context: float = 3.0
    confirm: float = 0.1
    max_people: int = 8
    skip_grey: bool = True
    hold_s: float = 1.0


def zoom_squares(heads: np.ndarray, context: float, shape: tuple[int, ...]) -> np.ndarray:
    """The square ``[K, 4]`` (integer frame pixels, clipped to the frame) around each head band ``[K, 4]``,
    ``context`` times its longer side.

    Example:
        >>> zoom_squares(np.array([[40.0, 10.0, 60.0, 30.0]]), 3.0, (100, 200, 3)).tolist()
        [[20, 0, 80, 50]]
    """
    heads = np.asarray(heads, np.float64).reshape(-1, 4)
    half = context * np.maximum(heads[:, 2] - heads[:, 0], heads[:, 3] - heads[:, 1]) / 2
    cx, cy = (heads[:, 0] + heads[:, 2]) / 2, (heads[:, 1] + heads[:, 3]) / 2
    h, w = shape[:2]
    box = np.stack([cx - half, cy - half, cx + half, cy + half], axis=1).round()
    return np.clip(box, 0, [w, h, w, h]).astype(np.int64)


class ZoomStage:
    """Looks again, enlarged, at the heads of people flagged ``no_helmet``; see the module's docstring.

    Args:
        params: geometry and threshold.
        bands: the head band geometry (as in the association).
    """

    def __init__(self, params: ZoomParams | None = None, bands: Bands | None = None) -> None:
        self.params = params or ZoomParams()
        self.bands = bands or Bands()
        self._decode = DecodeParams(conf=self.params.confirm, iou=0.6, max_det=50)

    def check(
        self,
        frame: np.ndarray,
        people: sv.Detections,
        model: DetectorBackend,
        *,
        grey: bool = False,
        only: Sequence[int] | None = None,
    ) -> dict[str, float]:
        """Look again at the flagged heads of ``people`` in ``frame`` with ``model`` and withdraw the
        flags it does not confirm, in place.

        Args:
            frame: the BGR frame.
            people: its people, every stage's decision made.
            model: the PPE model to look with (the one that looked at the frame, or its small export).
            grey: whether the frame has no colour (:func:`detector.vests.is_grey`).
            only: look at these people alone (indices; a camera's tracks whose verdict is due); the
                other flags stand. ``None``: every flagged person.

        Returns:
            The stage's timings (``zoom``). ``people.data[ZOOM_BARE_SCORE]`` holds what the look found for
            each person looked at, ``nan`` for the others.
        """
        timer = StageTimer()
        with timer.stage("zoom"):
            scores = np.full(len(people), np.nan, np.float32)
            flagged = np.flatnonzero(np.asarray(people.data[HELMET]) == Attr.NO.value)
            if only is not None:
                flagged = np.intersect1d(flagged, np.asarray(only, dtype=np.int64))
            if len(flagged) and self.looks_at(grey):
                heads = people_bands(people, self.bands.head, self.bands.side_margin)
                sides = np.maximum(heads[:, 2] - heads[:, 0], heads[:, 3] - heads[:, 1])
                chosen = flagged[np.argsort(sides[flagged], kind="stable")][: self.params.max_people]
                squares = zoom_squares(heads[chosen], self.params.context, frame.shape)
                usable = (squares[:, 2] - squares[:, 0] >= 2) & (squares[:, 3] - squares[:, 1] >= 2)
                chosen, squares = chosen[usable], squares[usable]
                crops = [frame[y1:y2, x1:x2] for x1, y1, x2, y2 in squares]
                found = model.detect(crops, self._decode).detections if crops else []
                for i, square, det in zip(chosen, squares, found, strict=True):
                    scores[i] = self._bare_score(det, heads[i] - np.tile(square[:2], 2))
                    if scores[i] < self.params.confirm:
                        people.data[HELMET][i] = Attr.UNKNOWN.value
            people.data[ZOOM_BARE_SCORE] = scores
        return timer.ms

    def looks_at(self, grey: bool) -> bool:
        """Whether the stage looks at a frame at all: not at one without colour with ``skip_grey``."""
        return not (grey and self.params.skip_grey)

    def _bare_score(self, found: sv.Detections, band: np.ndarray) -> float:
        """The best score of a ``no_helmet`` box of ``found`` lying in ``band`` (crop pixels), or 0."""
        names = np.asarray(found.data.get(CLASS_NAME, np.empty(0, dtype=object)))
        bare = names == "no_helmet"
        if not bare.any():
            return 0.0
        assert found.confidence is not None
        inside = coverage(found.xyxy[bare], band[None])[:, 0] >= self.bands.min_cover
        return float(found.confidence[bare][inside].max()) if inside.any() else 0.0


class ZoomMemory:
    """What the zoomed look last decided for each of a camera's tracks, held ``hold_s`` seconds of frame
    time: a flagged track is looked at again only when its verdict is older (or it has none), and until
    then a withdrawn flag is withdrawn again without a look, a confirmed one stands.

    The persistence rule of ``no_helmet`` needs several looks over seconds, so holding a verdict for a
    second changes little of what it decides while a bare-headed worker in view costs one look a
    second instead of one a frame (``models/README.md``, ``ppe-zoom``).

    Example:
        >>> memory = ZoomMemory(hold_s=1.0)
        >>> memory.due([7, 8], now=0.0)  # new tracks: look at both
        ([0, 1], [])
        >>> memory.remember([7, 8], [True, False], now=0.0)  # 7 confirmed, 8 withdrawn
        >>> memory.due([8, 7], now=0.5)  # held: 8 is withdrawn again (index 0), 7 stands
        ([], [0])
        >>> memory.due([7, 8], now=1.0)  # due again
        ([0, 1], [])
    """

    def __init__(self, hold_s: float = 1.0) -> None:
        self.hold_s = hold_s
        self._verdicts: dict[Hashable, tuple[float, bool]] = {}

    def due(self, keys: Sequence[Hashable], now: float) -> tuple[list[int], list[int]]:
        """Split the flagged tracks ``keys`` at ``now`` (seconds): the indices to look at again, and the
        indices whose held verdict withdraws the flag; the others' flags stand."""
        # A time earlier than a verdict's (the camera's clock was reset) makes it stale, as an old one.
        self._verdicts = {k: v for k, v in self._verdicts.items() if 0 <= now - v[0] < self.hold_s}
        look, withdraw = [], []
        for i, key in enumerate(keys):
            held = self._verdicts.get(key)
            if held is None:
                look.append(i)
            elif not held[1]:
                withdraw.append(i)
        return look, withdraw

    def remember(self, keys: Sequence[Hashable], kept: Sequence[bool], now: float) -> None:
        """Hold what the look at ``now`` decided for each of ``keys``: whether the flag was ``kept``."""
        for key, flag in zip(keys, kept, strict=True):
            self._verdicts[key] = (now, bool(flag))
