"""The detection engine: PPE model, association into people, and the smoking stage, frame in, scene out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from detector import modelfiles
from detector.backends.factory import backend_for
from detector.backends.interface import BackendOptions, BatchResult, DetectorBackend
from detector.decode import DecodeParams
from detector.heads import HeadClassifier, HeadParams, HeadStage
from detector.patches import PatchClassifier
from detector.ppe import Bands, associate, violations
from detector.smoking import CIGARETTE_CLASSES, SmokingParams, SmokingStage
from detector.timing import StageTimer
from detector.types import CLASS_NAME, HELMET, SMOKING, VEST, subset
from detector.vests import VEST_CLASSES, VestParams, VestStage, is_grey
from detector.zoom import ZoomParams, ZoomStage


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Everything the engine needs to load and run its models.

    Attributes:
        ppe_model: PPE model path or alias (``ppe``; ``ppe-int8`` for its INT8 copy; a ``.pt`` runs on
            ultralytics).
        ppe_wide_model: the same PPE weights exported with a wide input (``ppe-wide``: 384 × 640), run
            instead of ``ppe_model`` on frames it sees at the same scale (5:3 or wider: a 16:9 substream),
            so that no time goes on the grey bands a square input adds (:func:`sees_at_full_scale`).
            ``None`` letterboxes every frame into ``ppe_model``.
        ppe_night_model: a PPE model for frames without colour (a camera's infrared mode at night,
            :func:`detector.vests.is_grey`): ``ppe-night`` is the shipped model fine-tuned with a third of
            its photos made infrared-like; ``None`` runs ``ppe_model`` on every frame.
        ppe_night_wide_model: ``ppe_night_model``'s wide export, as ``ppe_wide_model`` is ``ppe_model``'s.
        ppe_zoom_model: the same PPE weights exported with a small square input (``ppe-zoom``: 320 × 320),
            for the zoomed look at flagged heads (:mod:`detector.zoom`): the enlarged squares are small, and
            it costs about a third of the full input. ``None``: the square ``ppe_model`` looks.
            The defaults ``ppe-wide``, ``ppe-night``, ``ppe-night-wide`` and ``ppe-zoom`` are the shipped
            ``ppe``'s own exports and fine-tune, and are used only beside it (:data:`SHIPPED_TWINS`).
        smoking_model: cigarette model path or alias, or ``None`` to skip the smoking stage.
        cigarette_model: the smoking stage's verifier, path or alias (``cigarettes``), or ``None`` to trust
            the cigarette model's score alone (see :mod:`detector.smoking`).
        head_model: head classifier path or alias (``heads``), or ``None`` to decide helmets from the PPE
            model's boxes alone (see :mod:`detector.heads`).
        vest_model: torso classifier path or alias (``vests``), or ``None`` to decide vests from the PPE
            model's boxes alone (see :mod:`detector.vests`).
        models_dir: where aliases and relative paths are looked up.
        backend: how to run the models.
        ppe: decoding thresholds of the PPE model.
        bands: head and torso band geometry.
        smoking: smoking stage settings.
        heads: head stage thresholds.
        vests: torso stage thresholds.
        zoom: the zoomed second look at flagged bare heads (:mod:`detector.zoom`).
    """

    ppe_model: str = "ppe"
    ppe_wide_model: str | None = "ppe-wide"
    ppe_night_model: str | None = "ppe-night"
    ppe_night_wide_model: str | None = "ppe-night-wide"
    ppe_zoom_model: str | None = "ppe-zoom"
    smoking_model: str | None = "smoking"
    cigarette_model: str | None = "cigarettes"
    head_model: str | None = "heads"
    vest_model: str | None = "vests"
    models_dir: Path | None = None
    backend: BackendOptions = field(default_factory=BackendOptions)
    ppe: DecodeParams = field(default_factory=lambda: DecodeParams(conf=0.35, iou=0.6, max_det=100))
    bands: Bands = field(default_factory=Bands)
    smoking: SmokingParams = field(default_factory=SmokingParams)
    heads: HeadParams = field(default_factory=HeadParams)
    vests: VestParams = field(default_factory=VestParams)
    zoom: ZoomParams = field(default_factory=ZoomParams)


@dataclass(slots=True)
class Scene:
    """What the engine saw in one frame.

    Attributes:
        detections: every box found (PPE classes and cigarettes), in frame pixels.
        people: one row per person with ``helmet``, ``vest``, ``smoking`` and ``inferred`` data.
        timings_ms: time per stage for this frame.
        grey: whether the frame has no colour (a camera's infrared mode, :func:`detector.vests.is_grey`).
    """

    detections: sv.Detections
    people: sv.Detections
    timings_ms: dict[str, float]
    grey: bool = False

    def add_times(self, timings: dict[str, float]) -> None:
        """Add a later stage's ``timings`` (ms per stage) to the frame's."""
        for stage, ms in timings.items():
            self.timings_ms[stage] = self.timings_ms.get(stage, 0.0) + ms

    def to_json(self) -> dict[str, Any]:
        """The ``sitewatch detect --json`` shape (without the ``image`` key)."""
        assert self.detections.confidence is not None
        return {
            "detections": [
                {
                    "class": str(self.detections.data[CLASS_NAME][i]),
                    "score": round(float(self.detections.confidence[i]), 4),
                    "box": [round(float(v), 1) for v in self.detections.xyxy[i]],
                }
                for i in range(len(self.detections))
            ],
            "people": [
                {
                    "box": [round(float(v), 1) for v in self.people.xyxy[i]],
                    "helmet": str(self.people.data[HELMET][i]),
                    "vest": str(self.people.data[VEST][i]),
                    "smoking": str(self.people.data[SMOKING][i]),
                    "violations": [v.value for v in violations(self.people, i)],
                }
                for i in range(len(self.people))
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


#: Defaults that are the shipped ``ppe`` model's own exports and fine-tune (see :class:`EngineSettings`).
SHIPPED_TWINS = frozenset({"ppe-wide", "ppe-night", "ppe-night-wide", "ppe-zoom"})


def sees_at_full_scale(shape: tuple[int, ...], wide: tuple[int, int], square: tuple[int, int]) -> bool:
    """Whether a frame of ``shape`` letterboxed into the ``wide`` input (height, width) is as large as in
    the ``square`` one: then the wide input loses nothing and costs less.

    Example:
        >>> sees_at_full_scale((360, 640, 3), (384, 640), (640, 640))  # 16:9
        True
        >>> sees_at_full_scale((576, 704, 3), (384, 640), (640, 640))  # a 704 x 576 substream
        False
    """
    height, width = shape[:2]
    wide_scale = min(wide[0] / height, wide[1] / width)
    square_scale = min(square[0] / height, square[1] / width)
    return wide_scale >= square_scale * (1 - 1e-6)


class Engine:
    """One copy of each model, shared by every camera of a box.

    Example:
        >>> import cv2
        >>> engine = Engine(EngineSettings(smoking_model=None))
        >>> scene = engine.detect([cv2.imread("configs/demo/images/site-1.jpg")])[0]
        >>> sorted(scene.timings_ms)
        ['association', 'heads', 'inference', 'postprocess', 'preprocess', 'vests', 'zoom']
    """

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        base = self.settings.models_dir or modelfiles.models_dir()
        self.ppe: DetectorBackend = backend_for(
            modelfiles.resolve(self.settings.ppe_model, base), self.settings.backend
        )

        def twin(name: str | None) -> DetectorBackend | None:
            # The shipped exports and fine-tune belong to the shipped model; another model has no such twin.
            if not name or (name in SHIPPED_TWINS and self.settings.ppe_model != "ppe"):
                return None
            return backend_for(modelfiles.resolve(name, base), self.settings.backend)

        self.ppe_wide = twin(self.settings.ppe_wide_model)
        self.ppe_night = twin(self.settings.ppe_night_model)
        self.ppe_night_wide = twin(self.settings.ppe_night_wide_model) if self.ppe_night else None
        self.ppe_zoom = twin(self.settings.ppe_zoom_model) if self.settings.zoom.enabled else None
        self.smoking: SmokingStage | None = None
        if self.settings.smoking_model:
            # The smoking checks run on the pipeline thread while the PPE model infers the next frames:
            # one thread that does not spin-wait, so that the two models do not fight over a small box's
            # cores (a session's own choice is kept where it set a number of threads, or on a GPU).
            options = self.settings.backend
            if options.intra_op_threads == 0:
                options = replace(options, intra_op_threads=1, spin=False)
            model = backend_for(modelfiles.resolve(self.settings.smoking_model, base), options)
            verifier = None
            if self.settings.cigarette_model:
                path = modelfiles.resolve(self.settings.cigarette_model, base)
                verifier = PatchClassifier(path, CIGARETTE_CLASSES, flip=self.settings.smoking.flip)
            self.smoking = SmokingStage(model, self.settings.smoking, verifier)
        self.heads: HeadStage | None = None
        #: What the PPE model is asked for: the operating point, or the head stage's hints below it.
        self.decode = self.settings.ppe
        if self.settings.head_model:
            classifier = HeadClassifier(modelfiles.resolve(self.settings.head_model, base))
            self.heads = HeadStage(classifier, self.settings.heads, self.settings.bands)
            if self.settings.heads.hint < self.settings.ppe.conf:
                self.decode = replace(self.settings.ppe, conf=self.settings.heads.hint)
        self.vests: VestStage | None = None
        if self.settings.vest_model:
            torso = PatchClassifier(modelfiles.resolve(self.settings.vest_model, base), VEST_CLASSES)
            self.vests = VestStage(torso, self.settings.vests, self.settings.bands)
        self.zoom = ZoomStage(self.settings.zoom, self.settings.bands) if self.settings.zoom.enabled else None

    def detect(self, frames: Sequence[np.ndarray], *, smoking: bool = True, zoom: bool = True) -> list[Scene]:
        """Detect people and their PPE in BGR ``frames`` (one batch), and check everyone for smoking.

        Args:
            frames: BGR images, any size.
            smoking: run the smoking stage on every person; camera pipelines pass ``False`` and call
                :meth:`check_smoking` for the tracks a scheduler picks.
            zoom: take the zoomed look at every flagged bare head; camera pipelines pass ``False`` and call
                :meth:`check_zoom` for the tracks whose verdict is due (:class:`detector.zoom.ZoomMemory`).
        """
        greys = [is_grey(frame) for frame in frames]  # once a frame: the night model and the torso stage ask
        batch = self._detect_ppe(frames, greys)
        share = {k: v / max(len(frames), 1) for k, v in batch.timings_ms.items()}
        scenes = []
        for frame, grey, found in zip(frames, greys, batch.detections, strict=True):
            timer = StageTimer()
            timer.merge(share)
            with timer.stage("association"):
                det, hints = self._split_hints(found)
                people = associate(det, self.settings.bands)
            if self.heads is not None:
                # At night the weak boxes cost precision on the valid splits (models/README.md, head-cls).
                timer.merge(self.heads.check(frame, people, None if grey else hints, grey=grey))
            if self.vests is not None:
                timer.merge(self.vests.check(frame, people, grey=grey))
            scene = Scene(detections=det, people=people, timings_ms=timer.ms, grey=grey)
            if zoom:
                self.check_zoom(frame, scene)
            if smoking:
                self.check_smoking(frame, scene)
            scenes.append(scene)
        return scenes

    def _split_hints(self, found: sv.Detections) -> tuple[sv.Detections, np.ndarray]:
        """The PPE model's boxes at the operating point, and the ``no_helmet`` boxes below it (the head
        stage's hints). Greedy NMS drops a box only for a stronger one, so the boxes kept are those the
        operating point alone would have given."""
        if self.decode.conf >= self.settings.ppe.conf:
            return found, np.empty((0, 4))
        assert found.confidence is not None
        sure = found.confidence > self.settings.ppe.conf  # the decoder keeps scores above conf
        names = found.data.get(CLASS_NAME, np.empty(0, dtype=object))
        hints = found.xyxy[~sure & (names == "no_helmet")]
        return subset(found, sure), hints

    def square_model(self, grey: bool) -> DetectorBackend:
        """The PPE model with the square input that looks at crops of a frame: the night model's on a frame
        without colour (when there is one)."""
        return self.ppe_night if grey and self.ppe_night is not None else self.ppe

    def zoom_model(self, grey: bool) -> DetectorBackend:
        """The PPE model that takes the zoomed look at a frame's flagged heads: the small export of the day
        model (``ppe_zoom``); on a frame without colour (when the zoomed look runs there at all,
        ``zoom.skip_grey`` off) the night model, which has no small export."""
        night = grey and self.ppe_night is not None
        return self.ppe_zoom if self.ppe_zoom is not None and not night else self.square_model(grey)

    def ppe_model_for(self, frame: np.ndarray, grey: bool | None = None) -> DetectorBackend:
        """The PPE model that looks at ``frame``: the night model on a frame without colour (when there
        is one), and that model's wide export when the frame is wide enough to lose nothing by it.

        Args:
            frame: the BGR frame.
            grey: whether it has no colour, when the caller already knows (:func:`detector.vests.is_grey`).
        """
        night = self.ppe_night is not None and (is_grey(frame) if grey is None else grey)
        square = self.square_model(night)
        wide = self.ppe_night_wide if night else self.ppe_wide
        if wide is not None and sees_at_full_scale(frame.shape, wide.input_size, square.input_size):
            return wide
        return square

    def _detect_ppe(
        self, frames: Sequence[np.ndarray], greys: Sequence[bool | None] | None = None
    ) -> BatchResult:
        """The PPE model on ``frames``, each through :meth:`ppe_model_for` (``greys``: which have no colour,
        when known), one batch per model, the results in the frames' order and the stage times added up."""
        groups: dict[int, tuple[DetectorBackend, list[int]]] = {}
        known = greys if greys is not None else [None] * len(frames)
        for i, (frame, grey) in enumerate(zip(frames, known, strict=True)):
            model = self.ppe_model_for(frame, grey)
            groups.setdefault(id(model), (model, []))[1].append(i)
        if len(groups) == 1:
            model, _ = next(iter(groups.values()))
            return model.detect(frames, self.decode)
        detections: list[sv.Detections | None] = [None] * len(frames)
        timings: dict[str, float] = {}
        for model, indices in groups.values():
            batch = model.detect([frames[i] for i in indices], self.decode)
            for i, det in zip(indices, batch.detections, strict=True):
                detections[i] = det
            for key, ms in batch.timings_ms.items():
                timings[key] = timings.get(key, 0.0) + ms
        return BatchResult([d for d in detections if d is not None], timings)

    def check_zoom(self, frame: np.ndarray, scene: Scene, indices: Sequence[int] | None = None) -> None:
        """Take the zoomed look at the flagged bare heads of people ``indices`` of ``scene`` (every flagged
        person by default), withdrawing the flags it does not confirm; the stage's time adds to the
        scene's."""
        if self.zoom is None:
            return
        model = self.zoom_model(scene.grey)
        timings = self.zoom.check(frame, scene.people, model, grey=scene.grey, only=indices)
        scene.add_times(timings)

    def check_smoking(self, frame: np.ndarray, scene: Scene, indices: Sequence[int] | None = None) -> None:
        """Run the smoking stage on people ``indices`` of ``scene`` (all by default), updating it."""
        if self.smoking is None or len(scene.people) == 0:
            return
        cigarettes, timings = self.smoking.check(frame, scene.people, indices)
        scene.add_times(timings)
        if len(cigarettes):
            # Give cigarettes class ids after the PPE classes so colours and ids never collide.
            assert cigarettes.class_id is not None
            cigarettes.class_id = cigarettes.class_id + len(self.ppe.names)
            scene.detections = sv.Detections.merge([scene.detections, cigarettes])
