"""Faces: detection (SCRFD through insightface, or OpenCV's YuNet) and ArcFace-style embeddings.

The models load through ``insightface.model_zoo.get_model``, which inspects an ONNX file and returns the
right wrapper, so alignment and preprocessing are insightface's own. A configuration names either two
files (detector and recogniser) or an insightface model pack folder such as ``buffalo_l``.

Face data is biometric: the gallery (:mod:`detector.face_gallery`) keeps only normalised embeddings,
never the photos.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from detector import modelfiles
from detector.face_gallery import EnrollmentError as EnrollmentError  # raised here too; api imports it here
from detector.modelfiles import ModelFileError

logger = logging.getLogger(__name__)

# insightface's alignment calls a scikit-image API deprecated in 0.26, which warns on every face.
warnings.filterwarnings("ignore", message="`estimate` is deprecated", category=FutureWarning)


@dataclass(slots=True)
class Face:
    """One detected face.

    Attributes:
        box: ``x1, y1, x2, y2`` in image pixels.
        score: detector confidence.
        kps: five landmarks ``[5, 2]`` (eyes, nose, mouth corners), used for alignment.
        embedding: unit-length embedding once computed.
    """

    box: np.ndarray
    score: float
    kps: np.ndarray
    embedding: np.ndarray | None = None

    @property
    def size(self) -> float:
        """The shorter side of the face box, in pixels."""
        return float(min(self.box[2] - self.box[0], self.box[3] - self.box[1]))


class FaceDetector(Protocol):
    """Finds faces with five landmarks."""

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR image, most confident first."""
        ...


def _get_model(path: Path, providers: Sequence[str]) -> Any:
    from insightface.model_zoo import get_model  # heavy import, only when faces are used

    modelfiles.verify(path)
    try:
        model = get_model(str(path), providers=list(providers))
    except Exception as exc:  # insightface asserts and raises assorted errors on a bad file
        raise ModelFileError(f"model file {path} could not be loaded by insightface: {exc}") from exc
    if model is None:
        raise ModelFileError(f"model file {path} is not a face model insightface recognises")
    return model


class ScrfdDetector:
    """InsightFace's SCRFD detector.

    Args:
        path: the ONNX file.
        det_size: input size the image is resized into (width, height).
        threshold: minimum face score.
        providers: onnxruntime providers.
    """

    def __init__(
        self,
        path: Path,
        *,
        det_size: tuple[int, int] = (640, 640),
        threshold: float = 0.5,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        model: Any = None,
    ) -> None:
        self.model = model if model is not None else _get_model(path, providers)
        if getattr(self.model, "taskname", None) != "detection":
            raise ModelFileError(f"model file {path} is not a face detector")
        self.model.prepare(ctx_id=-1, input_size=det_size, det_thresh=threshold)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR image, most confident first."""
        boxes, kpss = self.model.detect(image, max_num=0)
        faces = [
            Face(box=b[:4].astype(np.float32), score=float(b[4]), kps=k.astype(np.float32))
            for b, k in zip(boxes, kpss if kpss is not None else [None] * len(boxes), strict=True)
            if k is not None
        ]
        return sorted(faces, key=lambda f: -f.score)


class YuNetDetector:
    """OpenCV Zoo's YuNet detector (MIT licence), a licence-clean alternative to SCRFD.

    Args:
        path: the ONNX file.
        threshold: minimum face score.
    """

    def __init__(self, path: Path, *, threshold: float = 0.6) -> None:
        modelfiles.verify(path)
        try:
            self.model = cv2.FaceDetectorYN.create(str(path), "", (320, 320), threshold, 0.3, 5000)
        except cv2.error as exc:
            raise ModelFileError(f"model file {path} could not be loaded as YuNet: {exc}") from exc

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR image, most confident first."""
        h, w = image.shape[:2]
        self.model.setInputSize((w, h))
        _, rows = self.model.detect(image)
        faces = []
        for row in rows if rows is not None else []:
            x, y, bw, bh = row[:4]
            faces.append(
                Face(
                    box=np.array([x, y, x + bw, y + bh], np.float32),
                    score=float(row[14]),
                    kps=row[4:14].reshape(5, 2).astype(np.float32),
                )
            )
        return sorted(faces, key=lambda f: -f.score)


class FaceEmbedder:
    """An ArcFace-style recogniser: aligned 112×112 crop in, unit-length embedding out."""

    def __init__(
        self, path: Path, *, providers: Sequence[str] = ("CPUExecutionProvider",), model: Any = None
    ) -> None:
        self.model = model if model is not None else _get_model(path, providers)
        if getattr(self.model, "taskname", None) != "recognition":
            raise ModelFileError(f"model file {path} is not a face recogniser")
        self.model.prepare(ctx_id=-1)

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Align ``face`` in the BGR ``image``, embed it, store and return the unit-length embedding."""
        from insightface.utils import face_align

        crop = face_align.norm_crop(image, landmark=face.kps, image_size=self.model.input_size[0])
        vector = np.asarray(self.model.get_feat(crop), dtype=np.float32).reshape(-1)
        face.embedding = vector / (np.linalg.norm(vector) + 1e-12)
        return face.embedding


@dataclass(frozen=True, slots=True)
class FaceSettings:
    """Which face models to load.

    Attributes:
        detector: detector ONNX (SCRFD, or YuNet when its file name says ``yunet``), path or alias.
        recognizer: recogniser ONNX, path or alias.
        pack: an insightface model pack folder (``buffalo_l``…); when set it replaces both files.
        det_size: detector input size.
        det_threshold: minimum face score.
        providers: onnxruntime providers.
    """

    detector: str = "face-det"
    recognizer: str = "face-rec"
    pack: Path | None = None
    det_size: tuple[int, int] = (640, 640)
    det_threshold: float = 0.5
    providers: tuple[str, ...] = ("CPUExecutionProvider",)


class FaceAnalyzer:
    """Detector plus embedder.

    Example:
        >>> analyzer = FaceAnalyzer.load(FaceSettings())
        >>> faces = analyzer.faces(cv2.imread("tests/data/faces/obama.jpg"))
        >>> len(faces), faces[0].embedding.shape
        (1, (128,))
    """

    def __init__(self, detector: FaceDetector, embedder: FaceEmbedder) -> None:
        self.detector = detector
        self.embedder = embedder

    @classmethod
    def load(cls, settings: FaceSettings, models_dir: Path | None = None) -> FaceAnalyzer:
        """Load the models named by ``settings``.

        Raises:
            ModelFileError: a file is missing, altered or not a face model; a pack lacks a detector
                or a recogniser.
        """
        if settings.pack is not None:
            return cls._load_pack(settings)
        base = models_dir or modelfiles.models_dir()
        det_path = modelfiles.resolve(settings.detector, base)
        detector: FaceDetector
        if "yunet" in det_path.name.lower():
            detector = YuNetDetector(det_path, threshold=settings.det_threshold)
        else:
            detector = ScrfdDetector(
                det_path,
                det_size=settings.det_size,
                threshold=settings.det_threshold,
                providers=settings.providers,
            )
        embedder = FaceEmbedder(modelfiles.resolve(settings.recognizer, base), providers=settings.providers)
        return cls(detector, embedder)

    @classmethod
    def _load_pack(cls, settings: FaceSettings) -> FaceAnalyzer:
        assert settings.pack is not None
        pack = settings.pack
        if not pack.is_dir():
            raise ModelFileError(f"face model pack {pack} is not a folder")
        found: dict[str, tuple[Path, Any]] = {}
        for path in sorted(pack.glob("*.onnx")):
            try:
                model = _get_model(path, settings.providers)
            except ModelFileError as exc:
                logger.info("skipping %s in pack %s: %s", path.name, pack, exc)
                continue
            task = getattr(model, "taskname", None)
            if task in ("detection", "recognition") and task not in found:
                found[task] = (path, model)
        missing = {"detection", "recognition"} - set(found)
        if missing:
            raise ModelFileError(f"face model pack {pack} has no {' and no '.join(sorted(missing))} model")
        det_path, det_model = found["detection"]
        rec_path, rec_model = found["recognition"]
        detector = ScrfdDetector(
            det_path, det_size=settings.det_size, threshold=settings.det_threshold, model=det_model
        )
        return cls(detector, FaceEmbedder(rec_path, model=rec_model))

    def faces(self, image: np.ndarray, *, min_size: float = 0.0) -> list[Face]:
        """Detect and embed the faces of a BGR image whose shorter side is at least ``min_size`` px."""
        faces = [f for f in self.detector.detect(image) if f.size >= min_size]
        for face in faces:
            self.embedder.embed(image, face)
        return faces


def enrollment_embedding(analyzer: FaceAnalyzer, image: np.ndarray | None, source: str) -> np.ndarray:
    """The embedding of the single face in an enrolment photo.

    Raises:
        EnrollmentError: the photo is unreadable, shows no face, or more than one.
    """
    if image is None:
        raise EnrollmentError(f"{source}: cannot read the photo")
    faces = analyzer.faces(image)
    if not faces:
        raise EnrollmentError(f"{source}: no face found; use a photo where the face is clearly visible")
    if len(faces) > 1:
        raise EnrollmentError(
            f"{source}: {len(faces)} faces found; an enrolment photo must show only the person enrolled"
        )
    assert faces[0].embedding is not None
    return faces[0].embedding
