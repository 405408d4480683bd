"""The torso stage: its crop geometry, the shipped torso classifier on a real photo, and the engine with
the stage off and on.

``tests/data/vests`` holds one photo of the PPE set's valid split (CC BY 4.0, see its README); the
other photos are those of ``tests/data/ppe`` (the PPE test split).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.engine import Engine, EngineSettings
from detector.head_crops import crop_squares
from detector.modelfiles import resolve
from detector.patches import PatchClassifier
from detector.ppe import Bands, band_boxes
from detector.training.dataset import read_labels
from detector.types import INFERRED, VEST, Attr
from detector.vests import VEST_BARE_SCORE, VEST_CLASSES, VestParams, torso_squares
from tests.conftest import DATA

VESTED = DATA / "vests" / "images" / "ppe-valid-00079.webp"
PHOTOS = sorted((DATA / "ppe" / "images").glob("*.jpg"))


@pytest.mark.parametrize(
    ("person", "bands"),
    [
        ([0.0, 0.0, 40.0, 100.0], Bands()),  # standing: the band is taller than wide
        ([10.0, 20.0, 210.0, 120.0], Bands()),  # lying or crouching: wider than tall
        ([5.0, 5.0, 45.0, 205.0], Bands(torso=(0.2, 0.6), side_margin=0.0)),
    ],
)
def test_the_torso_crop_is_the_square_around_the_torso_band(person: list[float], bands: Bands) -> None:
    box = np.array([person])
    square = torso_squares(box, bands)[0]
    band = band_boxes(box, bands.torso, bands.side_margin)[0]
    width, height = square[2] - square[0], square[3] - square[1]
    assert width == pytest.approx(height)
    assert width == pytest.approx(max(band[2] - band[0], band[3] - band[1]))
    assert (square[:2] + square[2:]) / 2 == pytest.approx((band[:2] + band[2:]) / 2)
    # The whole band is inside the crop.
    assert square[0] <= band[0] + 1e-9 and square[1] <= band[1] + 1e-9
    assert square[2] >= band[2] - 1e-9 and square[3] >= band[3] - 1e-9


def test_torso_squares_of_no_people_is_empty() -> None:
    assert torso_squares(np.empty((0, 4)), Bands()).shape == (0, 4)


@pytest.fixture(scope="module")
def classifier() -> PatchClassifier:
    return PatchClassifier(resolve("vests"), VEST_CLASSES)


def test_the_shipped_classifier_says_vest_for_a_clearly_vested_worker(classifier: PatchClassifier) -> None:
    frame = cv2.imread(str(VESTED))
    xyxy, cls = read_labels(VESTED, frame.shape[1], frame.shape[0])
    person = xyxy[cls == 0]
    patches = crop_squares(frame, torso_squares(person, Bands()), classifier.size)
    probs = classifier.classify(patches)
    assert probs.shape == (1, len(VEST_CLASSES))
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert classifier.names[int(probs[0].argmax())] == "vest"


def test_the_classifier_takes_a_batch_and_an_empty_one(classifier: PatchClassifier) -> None:
    size = classifier.size
    assert classifier.classify(np.zeros((3, size, size, 3), np.uint8)).shape == (3, 3)
    assert classifier.classify(np.zeros((0, size, size, 3), np.uint8)).shape == (0, 3)


def test_a_head_classifier_is_refused_as_a_torso_classifier() -> None:
    from detector.modelfiles import ModelFileError

    with pytest.raises(ModelFileError, match=r"head-cls\.onnx"):
        PatchClassifier(resolve("heads"), VEST_CLASSES)


@pytest.fixture(scope="module")
def scenes() -> dict[str, list[object]]:
    frames = [cv2.imread(str(p)) for p in [*PHOTOS, VESTED]]
    off = Engine(EngineSettings(smoking_model=None, vest_model=None))
    on = Engine(EngineSettings(smoking_model=None))
    return {
        "off": [off.detect([f], smoking=False)[0] for f in frames],
        "on": [on.detect([f], smoking=False)[0] for f in frames],
    }


def test_the_stage_off_leaves_no_trace(scenes: dict[str, list[object]]) -> None:
    for scene in scenes["off"]:
        assert "vests" not in scene.timings_ms  # type: ignore[attr-defined]
        assert VEST_BARE_SCORE not in scene.people.data  # type: ignore[attr-defined]


def test_the_stage_only_decides_people_the_detector_left_undecided(scenes: dict[str, list[object]]) -> None:
    for off, on in zip(scenes["off"], scenes["on"], strict=True):
        before, after = off.people, on.people  # type: ignore[attr-defined]
        assert "vests" in on.timings_ms  # type: ignore[attr-defined]
        assert np.array_equal(before.xyxy, after.xyxy)
        decided = np.asarray(before.data[VEST]) != Attr.UNKNOWN.value
        assert after.data[VEST][decided].tolist() == before.data[VEST][decided].tolist()
        looked = ~np.isnan(after.data[VEST_BARE_SCORE])
        assert not (looked & (decided | np.asarray(before.data[INFERRED], bool))).any()
        flagged = after.data[VEST] != before.data[VEST]
        assert set(after.data[VEST][flagged]) <= {Attr.NO.value}
        assert (after.data[VEST_BARE_SCORE][flagged] >= VestParams().flag).all()


def test_on_a_frame_without_colour_the_stage_leaves_vests_to_the_detector() -> None:
    from detector.training.night import infrared_like

    photo = next(p for p in PHOTOS if p.name.startswith("IMG_3103"))  # one undecided worker
    frame = infrared_like(cv2.imread(str(photo)))
    off = Engine(EngineSettings(smoking_model=None, vest_model=None)).detect([frame], smoking=False)[0]
    on = Engine(EngineSettings(smoking_model=None)).detect([frame], smoking=False)[0]
    assert on.people.data[VEST].tolist() == off.people.data[VEST].tolist()
    assert np.isnan(on.people.data[VEST_BARE_SCORE]).all()
    # With the guard off, the same worker is looked at: the guard, not the crop, kept the stage away.
    looking = Engine(EngineSettings(smoking_model=None, vests=VestParams(skip_grey=False)))
    scored = looking.detect([frame], smoking=False)[0].people
    open_ = (off.people.data[VEST] == Attr.UNKNOWN.value) & ~off.people.data[INFERRED].astype(bool)
    assert open_.any()
    assert not np.isnan(scored.data[VEST_BARE_SCORE][open_]).any()


@pytest.mark.parametrize(("flag", "grey_flag"), [(0.0, 1.01), (1.01, 0.0)])
def test_without_the_guard_a_frame_without_colour_is_flagged_at_grey_flag(
    flag: float, grey_flag: float
) -> None:
    from detector.training.night import infrared_like

    photo = next(p for p in PHOTOS if p.name.startswith("IMG_3103"))  # one undecided worker
    frame = infrared_like(cv2.imread(str(photo)))
    params = VestParams(flag=flag, grey_flag=grey_flag, max_vest=1.0, skip_grey=False)
    people = Engine(EngineSettings(smoking_model=None, vests=params)).detect([frame], smoking=False)[0].people
    looked = ~np.isnan(people.data[VEST_BARE_SCORE])
    assert looked.any()
    flagged = people.data[VEST][looked] == Attr.NO.value
    assert flagged.all() if grey_flag == 0.0 else not flagged.any()  # the day's flag plays no part
