"""Drawing evidence: people boxes coloured by verdict and labelled with their violations (supervision)."""

from __future__ import annotations

import numpy as np
import supervision as sv

from detector.engine import Scene
from detector.ppe import violations
from detector.types import CLASS_NAME, HELMET, PERSON, VEST, Attr, Violation, subset

#: Colour index 0 for a person without violation, 1 for a violation, 2 for other boxes.
_PALETTE = sv.ColorPalette(
    [sv.Color.from_hex("#2e7d32"), sv.Color.from_hex("#d32f2f"), sv.Color.from_hex("#f9a825")]
)


def _label(people: sv.Detections, index: int, found: list[Violation]) -> str:
    """Violations, or ``ok`` when helmet and vest were both seen, or ``unverified``."""
    if found:
        return ", ".join(v.value for v in found)
    seen = people.data[HELMET][index] == Attr.YES and people.data[VEST][index] == Attr.YES
    return "ok" if seen else "unverified"


class SceneAnnotator:
    """Draws a :class:`~detector.engine.Scene` on its frame; configure once, call per frame.

    Example:
        >>> import cv2
        >>> from detector.engine import Engine, EngineSettings
        >>> frame = cv2.imread("configs/demo/images/site-1.jpg")
        >>> scene = Engine(EngineSettings(smoking_model=None)).detect([frame])[0]
        >>> SceneAnnotator().annotate(frame, scene).shape == frame.shape
        True
    """

    def __init__(self, thickness: int = 2, text_scale: float = 0.5) -> None:
        lookup = sv.ColorLookup.CLASS
        self.boxes = sv.BoxAnnotator(color=_PALETTE, thickness=thickness, color_lookup=lookup)
        self.items = sv.BoxAnnotator(color=_PALETTE, thickness=1, color_lookup=lookup)
        self.labels = sv.LabelAnnotator(
            color=_PALETTE, text_scale=text_scale, text_padding=3, color_lookup=lookup, smart_position=True
        )

    def annotate(self, frame: np.ndarray, scene: Scene) -> np.ndarray:
        """Return a copy of ``frame`` with the scene's people and items drawn."""
        canvas = frame.copy()
        items = subset(scene.detections, scene.detections.data[CLASS_NAME] != PERSON)
        if len(items):
            items.class_id = np.full(len(items), 2)
            canvas = self.items.annotate(canvas, items)
            canvas = self.labels.annotate(canvas, items, labels=[str(n) for n in items.data[CLASS_NAME]])
        people = scene.people
        if len(people):
            found = [violations(people, i) for i in range(len(people))]
            people = sv.Detections(
                xyxy=people.xyxy,
                confidence=people.confidence,
                class_id=np.array([1 if v else 0 for v in found]),
            )
            labels = [_label(scene.people, i, vs) for i, vs in enumerate(found)]
            canvas = self.boxes.annotate(canvas, people)
            canvas = self.labels.annotate(canvas, people, labels=labels)
        return canvas
