"""The face models of enrolments: loaded on the first enrolment and shared, one enrolment at a time (the
models are CPU-heavy)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from api.http.services import Slot


def _load() -> Any:
    from detector.faces import FaceAnalyzer, FaceSettings  # heavy: only when someone enrols

    return FaceAnalyzer.load(FaceSettings())


class FaceModels:
    """The app's face models and the turn of enrolments.

    Args:
        load: makes the models (a :class:`detector.faces.FaceAnalyzer`); called once, on first use.
    """

    def __init__(self, load: Callable[[], Any] = _load) -> None:
        self.turn = asyncio.Semaphore(1)
        self._load = load
        self._analyzer: Any = None

    def analyzer(self) -> Any:
        """The models, loaded on first use."""
        if self._analyzer is None:
            self._analyzer = self._load()
        return self._analyzer

    def use(self, analyzer: Any) -> None:
        """Use ``analyzer`` instead of loading the models (tests; the all-in-one product shares its own)."""
        self._analyzer = analyzer


#: The app's face models.
FACE_MODELS: Slot[FaceModels] = Slot("the face models")
