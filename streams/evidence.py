"""Evidence of an event: the clean and the annotated JPEG of its best frame."""

from __future__ import annotations

import cv2
import numpy as np

from detector.annotate import SceneAnnotator
from detector.engine import Scene
from streams.events import Evidence


class EvidenceMaker:
    """Encodes snapshots; configure once per worker.

    Args:
        jpeg_quality: 1-100.
        language: of the annotated copy's labels (the site's: ``zh`` or ``en``).
    """

    def __init__(self, jpeg_quality: int = 85, language: str = "zh") -> None:
        self.jpeg_quality = jpeg_quality
        self.annotator = SceneAnnotator(language=language)

    def encode(self, image: np.ndarray) -> bytes:
        """JPEG bytes of a BGR image."""
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return buf.tobytes()

    def make(self, frame: np.ndarray, scene: Scene | None) -> Evidence:
        """Clean and annotated snapshots of ``frame`` (annotated = clean when there is no scene); the clean
        one is ``frame`` as it is: the annotator draws on a copy."""
        clean = self.encode(frame)
        annotated = self.encode(self.annotator.annotate(frame, scene)) if scene is not None else clean
        return Evidence(snapshot=clean, annotated=annotated)
