"""Configuration sections of the detectors: model files, runtime, thresholds, smoking and face checks.

Their defaults are the library's (``detector``, ``streams``); each section builds the library's
settings through its links (see :mod:`sitewatch.config.links`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator

from detector.backends.interface import BackendOptions
from detector.decode import DecodeParams
from detector.engine import EngineSettings
from detector.face_gallery import Gallery
from detector.faces import FaceSettings
from detector.heads import HeadParams
from detector.ppe import Bands
from detector.smoking import SmokingParams, SmokingScheduler
from detector.vests import VestParams
from detector.zoom import ZoomParams
from sitewatch.config.links import AS_TUPLE, SQUARE, Fraction, Link, Strict, same_keys
from streams.presence import FaceParams

MODELS = Link(
    EngineSettings,
    {
        "dir": "models_dir",
        "ppe": "ppe_model",
        "ppe_wide": "ppe_wide_model",
        "ppe_night": "ppe_night_model",
        "ppe_night_wide": "ppe_night_wide_model",
        "ppe_zoom": "ppe_zoom_model",
        "smoking": "smoking_model",
        "cigarettes": "cigarette_model",
        "heads": "head_model",
        "vests": "vest_model",
    },
    # Built from the runtime, detect, association, smoking, heads, vests and zoom sections.
    internal=frozenset({"backend", "ppe", "bands", "smoking", "heads", "vests", "zoom"}),
)
BACKEND = Link(
    BackendOptions,
    {
        "providers": "providers",
        "intra_op_threads": "intra_op_threads",
        "inter_op_threads": "inter_op_threads",
        "device": "device",
        "spin": "spin",
        "backend": "runtime",
    },
    convert={"providers": AS_TUPLE},
)
#: The engine's PPE thresholds (tuned on the valid splits), not the decoder's generic ones.
DECODE = same_keys(
    DecodeParams,
    "conf",
    "iou",
    "max_det",
    internal=frozenset({"multi_label", "agnostic"}),  # evaluation switches, not for sites
    defaults=EngineSettings().ppe,
)
BANDS = Link(
    Bands,
    {"head_band": "head", "torso_band": "torso", "side_margin": "side_margin", "min_cover": "min_cover"},
)
SMOKING = same_keys(
    SmokingParams,
    "conf",
    "propose",
    "verify",
    "min_crop_px",
    "flip",
    internal=frozenset({"upper_body", "side_margin"}),  # crop shape
)
HEADS = same_keys(HeadParams, "flag", "grey_flag", "max_helmet", "min_px", "hint")
VESTS = same_keys(VestParams, "flag", "max_vest", "min_px", "grey_flag", "skip_grey")
ZOOM = same_keys(ZoomParams, "enabled", "context", "confirm", "max_people", "skip_grey", "hold_s")
SMOKING_SCHEDULE = Link(SmokingScheduler, {"recheck_s": "recheck_s", "max_crops_per_frame": "max_per_frame"})
FACE = same_keys(
    FaceSettings,
    "detector",
    "recognizer",
    "pack",
    "det_size",
    "det_threshold",
    internal=frozenset({"providers"}),  # face models run on the CPU
    convert={"det_size": SQUARE},
)
GALLERY = Link(Gallery, {"match_threshold": "threshold"}, internal=frozenset({"identities"}))
FACE_SIZE = same_keys(
    FaceParams,
    "min_face_px",
    internal=frozenset({"attempts", "agree"}),  # from the officers section
)


class ModelsConfig(Strict):
    """Where the model files are."""

    LINKS = (MODELS,)

    dir: Path | None = MODELS.field(
        "dir", description="Folder of the model files; the repository's models/ when empty."
    )
    ppe: str = MODELS.field(
        "ppe",
        description="PPE detector: alias 'ppe', 'ppe-int8' (see models/README.md), an .onnx or .pt path.",
    )
    ppe_wide: str | None = MODELS.field(
        "ppe_wide",
        description="The same PPE weights with a wide input (alias 'ppe-wide': 384x640, the shipped ppe's), "
        "run on frames 5:3 or wider (16:9 substreams) at the same scale for about 0.6x the time; null to "
        "letterbox every frame into the square model. The default is used only with ppe: 'ppe'.",
    )
    ppe_night: str | None = MODELS.field(
        "ppe_night",
        description="PPE detector for frames without colour (infrared at night): alias 'ppe-night', the "
        "shipped ppe fine-tuned on infrared-like photos; null to run ppe at night too. The default is used "
        "only with ppe: 'ppe'.",
    )
    ppe_night_wide: str | None = MODELS.field(
        "ppe_night_wide",
        description="ppe_night's wide export (alias 'ppe-night-wide'), as ppe_wide is ppe's.",
    )
    ppe_zoom: str | None = MODELS.field(
        "ppe_zoom",
        description="The same PPE weights with a small input (alias 'ppe-zoom': 320x320, the shipped ppe's) "
        "for the zoomed look at flagged heads (zoom:); null to look with the square ppe. The default is used "
        "only with ppe: 'ppe'.",
    )
    smoking: str | None = MODELS.field(
        "smoking", description="Cigarette detector (alias, path), or null to disable smoking checks."
    )
    cigarettes: str | None = MODELS.field(
        "cigarettes",
        description="Cigarette verifier (alias 'cigarettes', a path), a second look at each cigarette the "
        "detector proposes; null to trust the detector's score alone.",
    )
    heads: str | None = MODELS.field(
        "heads",
        description="Head classifier (alias 'heads', a path), a second look at each person's head; null to "
        "decide helmets from the PPE model's boxes alone.",
    )
    vests: str | None = MODELS.field(
        "vests",
        description="Torso classifier (alias 'vests', a path), a second look at each undecided person's "
        "torso; null to decide vests from the PPE model's boxes alone.",
    )


class RuntimeConfig(Strict):
    """How models run."""

    LINKS = (BACKEND,)

    providers: list[str] = BACKEND.field(
        "providers",
        description="onnxruntime execution providers in order of preference: cpu, cuda, tensorrt, openvino.",
        min_length=1,
    )
    intra_op_threads: int = BACKEND.field(
        "intra_op_threads", ge=0, le=256, description="Threads per operator; 0 = one per core."
    )
    inter_op_threads: int = BACKEND.field(
        "inter_op_threads", ge=0, le=256, description="Threads across operators; 0 = auto."
    )
    device: str = BACKEND.field(
        "device",
        description="Device for .pt models (ultralytics) and .torchscript models (the GPU backend): cpu, "
        "cuda, cuda:1, 0, 1...",
    )
    spin: bool = BACKEND.field(
        "spin",
        description="Let idle onnxruntime threads spin-wait (faster; off gives CPU to capture threads).",
    )
    backend: Literal["onnxruntime", "openvino"] = BACKEND.field(
        "backend",
        description="What runs the .onnx models: onnxruntime (with `providers`), or OpenVINO on the CPU "
        "(pip install 'sitewatch[openvino]'; `intra_op_threads` sets its threads).",
    )


class DetectConfig(Strict):
    """Thresholds of the PPE detector."""

    LINKS = (DECODE,)

    conf: float = DECODE.field("conf", gt=0.0, lt=1.0, description="Minimum box score.")
    iou: float = DECODE.field("iou", gt=0.0, le=1.0, description="NMS IoU threshold (class-aware).")
    max_det: int = DECODE.field("max_det", ge=1, le=1000, description="Most boxes kept per frame.")


class AssociationConfig(Strict):
    """How helmet and vest boxes are matched to people (fractions of the person box height)."""

    LINKS = (BANDS,)

    head_band: tuple[float, float] = BANDS.field(
        "head_band", description="Top and bottom of the head band (may start above the box)."
    )
    torso_band: tuple[float, float] = BANDS.field(
        "torso_band", description="Top and bottom of the torso band."
    )
    side_margin: Fraction = BANDS.field(
        "side_margin", description="Band widening on each side, fraction of width."
    )
    min_cover: Fraction = BANDS.field(
        "min_cover", description="Share of an item's area that must lie in the band."
    )

    @field_validator("head_band", "torso_band")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        top, bottom = value
        if not (-0.5 <= top < bottom <= 1.0):
            raise ValueError("expected [top, bottom] with -0.5 <= top < bottom <= 1")
        return value


class SmokingConfig(Strict):
    """The cigarette check on upper-body crops."""

    LINKS = (SMOKING, SMOKING_SCHEDULE)

    conf: float = SMOKING.field(
        "conf",
        gt=0.0,
        lt=1.0,
        description="Without a verifier (models.cigarettes null): the least cigarette score (0.55: about "
        "2 % of crops of non-smokers fire).",
    )
    propose: float = SMOKING.field(
        "propose",
        gt=0.0,
        lt=1.0,
        description="With a verifier: the least cigarette score of a proposal it looks at.",
    )
    verify: float = SMOKING.field(
        "verify",
        ge=0.0,
        le=1.0,
        description="With a verifier (models.cigarettes): the least cigarette probability that keeps a "
        "proposal.",
    )
    recheck_s: float = SMOKING_SCHEDULE.field(
        "recheck_s",
        gt=0.0,
        le=600.0,
        description="Check each tracked person at most once every this many seconds, however often the "
        "camera is looked at.",
    )
    max_crops_per_frame: int = SMOKING_SCHEDULE.field(
        "max_crops_per_frame", ge=1, le=64, description="Most crops checked on one frame."
    )
    min_crop_px: int = SMOKING.field(
        "min_crop_px", ge=8, le=1024, description="Skip people whose crop is smaller."
    )
    flip: bool = SMOKING.field(
        "flip",
        description="Also look at each crop (and, with a verifier, each proposal) mirrored left to right: "
        "about twice the check's cost, more smokers found at the same false alarms.",
    )

    def scheduler(self) -> SmokingScheduler:
        """A fresh scheduler of smoking checks (one per camera)."""
        return SMOKING_SCHEDULE.build(self)


class HeadsConfig(Strict):
    """The head classifier's second look at each person's head (see detector/heads.py)."""

    LINKS = (HEADS,)

    flag: float = HEADS.field(
        "flag",
        gt=0.0,
        le=1.01,
        description="Flag a person the PPE model left without a head box when the classifier says no_helmet "
        "with at least this probability (above 1: never).",
    )
    grey_flag: float = HEADS.field(
        "grey_flag",
        gt=0.0,
        le=1.01,
        description="flag on frames without colour (infrared at night), where the zoomed look does not run "
        "(zoom.skip_grey).",
    )
    max_helmet: float = HEADS.field(
        "max_helmet",
        ge=0.0,
        le=1.0,
        description="Flag such a person only when the classifier gives helmet at most this probability.",
    )
    min_px: int = HEADS.field(
        "min_px", ge=8, le=1024, description="Skip heads whose crop is smaller (pixels)."
    )
    hint: float = HEADS.field(
        "hint",
        gt=0.0,
        le=1.0,
        description="A no_helmet box the PPE model finds with at least this confidence, under detect.conf, "
        "flags the person whose head band holds it when the classifier gives helmet at most max_helmet "
        "(at or above detect.conf: no hints).",
    )


class VestsConfig(Strict):
    """The torso classifier's second look at each undecided person's vest (see detector/vests.py)."""

    LINKS = (VESTS,)

    flag: float = VESTS.field(
        "flag",
        gt=0.0,
        le=1.01,
        description="Flag a person the PPE model left without a vest box when the classifier says no_vest "
        "with at least this probability (above 1: never).",
    )
    max_vest: float = VESTS.field(
        "max_vest",
        ge=0.0,
        le=1.0,
        description="Flag such a person only when the classifier gives vest at most this probability.",
    )
    min_px: int = VESTS.field(
        "min_px", ge=8, le=1024, description="Skip torsos whose crop is smaller (pixels)."
    )
    grey_flag: float = VESTS.field(
        "grey_flag",
        gt=0.0,
        le=1.01,
        description="flag on frames without colour (a camera's infrared mode at night), where grey vests and "
        "jackets look alike; used only with skip_grey false.",
    )
    skip_grey: bool = VESTS.field(
        "skip_grey",
        description="Leave vests undecided on frames without colour, to the PPE model alone.",
    )


class ZoomConfig(Strict):
    """The zoomed second look at each person flagged without a hard hat (see detector/zoom.py)."""

    LINKS = (ZOOM,)

    enabled: bool = ZOOM.field(
        "enabled", description="Look again, enlarged, at the head of each person flagged no_helmet."
    )
    context: float = ZOOM.field(
        "context",
        ge=1.5,
        le=10.0,
        description="Side of the enlarged square as a multiple of the head band's longer side.",
    )
    confirm: float = ZOOM.field(
        "confirm",
        gt=0.0,
        lt=1.0,
        description="Keep the flag when the PPE model, on the enlarged square, finds a no_helmet box in the "
        "head band with at least this score.",
    )
    max_people: int = ZOOM.field(
        "max_people",
        ge=1,
        le=64,
        description="Most flagged people looked at again in one frame (smallest heads first); the others "
        "keep their flags.",
    )
    skip_grey: bool = ZOOM.field(
        "skip_grey",
        description="Leave the flags of frames without colour (infrared at night) as they are; "
        "heads.grey_flag applies there.",
    )
    hold_s: float = ZOOM.field(
        "hold_s",
        ge=0.0,
        le=60.0,
        description="On a camera, a tracked person's verdict stands this many seconds before the next look "
        "(0: look on every frame); the persistence rules need several looks over seconds.",
    )


class FaceConfig(Strict):
    """Face models for recognising the safety officer."""

    LINKS = (FACE, GALLERY, FACE_SIZE)

    detector: str = FACE.field("detector", description="Face detector ONNX (SCRFD, or a YuNet file).")
    recognizer: str = FACE.field("recognizer", description="ArcFace-style recogniser ONNX.")
    pack: Path | None = FACE.field(
        "pack", description="An insightface model pack folder; replaces both files."
    )
    det_size: int = FACE.field("det_size", ge=128, le=1920, description="Detector input size in pixels.")
    det_threshold: float = FACE.field("det_threshold", gt=0.0, lt=1.0, description="Minimum face score.")
    match_threshold: float = GALLERY.field(
        "match_threshold", gt=0.0, lt=1.0, description="Smallest cosine similarity that names a face."
    )
    min_face_px: int = FACE_SIZE.field(
        "min_face_px", ge=16, le=1024, description="Faces smaller than this are not recognised."
    )
