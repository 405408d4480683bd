"""Domain types shared by the whole pipeline.

The one detection type is :class:`supervision.Detections`. Every backend converts its output into it
once; everything after that takes and returns ``Detections`` (or a boolean mask). Extra per-detection
fields live in ``Detections.data``; the keys used across the project are named here. The kinds of
violation (:class:`~detector.kinds.Violation`) live with the other event kinds in :mod:`detector.kinds`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt
import supervision as sv

from detector.kinds import Violation as Violation

#: ``Detections.data`` key holding each detection's class name (``numpy`` array of ``str``).
CLASS_NAME: Final = "class_name"
#: ``Detections.data`` keys on people (see :mod:`detector.ppe`).
HELMET: Final = "helmet"
VEST: Final = "vest"
SMOKING: Final = "smoking"
#: ``True`` when a "person" row was inferred from a lone ``no_helmet``/``no_vest`` box.
INFERRED: Final = "inferred"

PERSON: Final = "person"


class Attr(StrEnum):
    """The value of a person's safety attribute."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


def empty_detections() -> sv.Detections:
    """Return an empty ``Detections`` that still carries a ``class_name`` field.

    Example:
        >>> len(empty_detections())
        0
    """
    return sv.Detections(
        xyxy=np.empty((0, 4), dtype=np.float32),
        confidence=np.empty((0,), dtype=np.float32),
        class_id=np.empty((0,), dtype=np.int64),
        data={CLASS_NAME: np.empty((0,), dtype=object)},
    )


def make_detections(
    xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray, names: dict[int, str]
) -> sv.Detections:
    """Build ``Detections`` from parallel arrays, naming each class with ``names``.

    Args:
        xyxy: boxes ``[N, 4]`` in pixels of the original image.
        confidence: scores ``[N]``.
        class_id: class indices ``[N]``.
        names: class index to name, as read from the model's metadata.

    Example:
        >>> d = make_detections(np.array([[0, 0, 10, 10]]), np.array([0.9]), np.array([0]), {0: "person"})
        >>> d.data["class_name"].tolist()
        ['person']
    """
    class_id = class_id.astype(np.int64, copy=False)
    class_names = np.array([names.get(int(c), str(int(c))) for c in class_id], dtype=object)
    return sv.Detections(
        xyxy=xyxy.astype(np.float32, copy=False).reshape(-1, 4),
        confidence=confidence.astype(np.float32, copy=False),
        class_id=class_id,
        data={CLASS_NAME: class_names},
    )


def subset(detections: sv.Detections, index: npt.ArrayLike) -> sv.Detections:
    """``detections[index]`` for a boolean mask or an index array, typed as ``Detections``.

    Example:
        >>> d = make_detections(np.zeros((2, 4)), np.array([0.9, 0.1]), np.array([0, 0]), {0: "person"})
        >>> len(subset(d, d.confidence > 0.5))
        1
    """
    out = detections[np.asarray(index)]
    assert isinstance(out, sv.Detections)
    return out
