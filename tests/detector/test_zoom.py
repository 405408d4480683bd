"""The zoomed second look at flagged bare heads (``detector/zoom.py``), with the shipped PPE model on the
photos of ``tests/data/ppe``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.engine import Engine, EngineSettings
from detector.types import HELMET, Attr
from detector.zoom import ZOOM_BARE_SCORE, ZoomMemory, ZoomParams, ZoomStage, zoom_squares
from tests.conftest import DATA, CountingModel

PHOTOS = DATA / "ppe" / "images"
BARE = sorted(PHOTOS.glob("IMG_*.jpg"))  # a worker without a hard hat, labelled, flagged by the engine
HARD_HAT = PHOTOS / "youtube-840_jpg.rf.974a83a7c5aee7c16e83435b043c6d96.jpg"  # one worker in a hard hat


@pytest.fixture(scope="module")
def plain() -> Engine:
    """The engine without the zoomed look: the flags it would check."""
    return Engine(EngineSettings(smoking_model=None, zoom=ZoomParams(enabled=False)))


@pytest.mark.parametrize(
    ("heads", "context", "shape", "expected"),
    [
        ([[40.0, 10.0, 60.0, 30.0]], 3.0, (100, 200), [[20, 0, 80, 50]]),  # clipped at the top
        ([[90.0, 40.0, 100.0, 60.0]], 2.0, (100, 100), [[75, 30, 100, 70]]),  # and at the right
        (
            [[10.0, 10.0, 20.0, 20.0], [50.0, 50.0, 54.0, 58.0]],
            4.0,
            (100, 100),
            [[0, 0, 35, 35], [36, 38, 68, 70]],
        ),
    ],
)
def test_zoom_squares(
    heads: list[list[float]], context: float, shape: tuple[int, int], expected: list[list[int]]
) -> None:
    assert zoom_squares(np.array(heads), context, (*shape, 3)).tolist() == expected


@pytest.mark.parametrize("photo", BARE, ids=lambda p: p.name[:12])
def test_a_bare_head_stays_flagged(photo: object, plain: Engine) -> None:
    frame = cv2.imread(str(photo))
    people = plain.detect([frame], smoking=False)[0].people
    flagged = people.data[HELMET] == Attr.NO.value
    assert flagged.any()
    ZoomStage().check(frame, people, plain.ppe)
    assert (people.data[HELMET][flagged] == Attr.NO.value).all()
    assert (people.data[ZOOM_BARE_SCORE][flagged] >= ZoomParams().confirm).all()


def test_a_hard_hat_taken_for_a_bare_head_is_withdrawn(plain: Engine) -> None:
    frame = cv2.imread(str(HARD_HAT))
    people = plain.detect([frame], smoking=False)[0].people
    assert people.data[HELMET].tolist() == [Attr.YES.value]
    people.data[HELMET][0] = Attr.NO.value  # as a stage that took the hard hat for a bare head would
    ZoomStage().check(frame, people, plain.ppe)
    assert people.data[HELMET].tolist() == [Attr.UNKNOWN.value]
    assert people.data[ZOOM_BARE_SCORE][0] < ZoomParams().confirm


def test_only_flagged_people_cost_a_look_and_the_budget_keeps_the_rest_flagged(plain: Engine) -> None:
    frame = cv2.imread(str(BARE[0]))
    people = plain.detect([frame], smoking=False)[0].people
    model = CountingModel(plain.ppe)
    unflagged = people.data[HELMET] != Attr.NO.value
    people.data[HELMET][unflagged] = Attr.YES.value
    ZoomStage().check(frame, people, model)  # type: ignore[arg-type]
    assert len(model.crops) == int((~unflagged).sum())
    assert np.isnan(people.data[ZOOM_BARE_SCORE][unflagged]).all()

    # Two flagged people over a budget of one: the smaller head is looked at, the other keeps its flag.
    h, w = frame.shape[:2]
    two = np.full((h, w + w // 2, 3), 114, np.uint8)
    two[:, :w] = frame
    two[: h // 2, w:] = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    people = plain.detect([two], smoking=False)[0].people
    flagged = np.flatnonzero(people.data[HELMET] == Attr.NO.value)
    assert len(flagged) >= 2
    model = CountingModel(plain.ppe)
    ZoomStage(ZoomParams(max_people=1)).check(two, people, model)  # type: ignore[arg-type]
    assert len(model.crops) == 1
    looked = flagged[~np.isnan(people.data[ZOOM_BARE_SCORE][flagged])]
    assert len(looked) == 1 and people.xyxy[looked[0], 0] >= frame.shape[1]  # the one in the small copy
    assert (people.data[HELMET][np.setdiff1d(flagged, looked)] == Attr.NO.value).all()


def test_a_frame_without_flags_runs_no_second_look(plain: Engine) -> None:
    frame = cv2.imread(str(HARD_HAT))
    people = plain.detect([frame], smoking=False)[0].people
    model = CountingModel(plain.ppe)
    ZoomStage().check(frame, people, model)  # type: ignore[arg-type]
    assert model.crops == []


def test_a_frame_without_colour_keeps_its_flags_unlooked(plain: Engine) -> None:
    frame = cv2.imread(str(HARD_HAT))
    people = plain.detect([frame], smoking=False)[0].people
    people.data[HELMET][0] = Attr.NO.value
    model = CountingModel(plain.ppe)
    ZoomStage().check(frame, people, model, grey=True)  # type: ignore[arg-type]
    assert model.crops == [] and people.data[HELMET].tolist() == [Attr.NO.value]
    ZoomStage(ZoomParams(skip_grey=False)).check(frame, people, model, grey=True)  # type: ignore[arg-type]
    assert len(model.crops) == 1 and people.data[HELMET].tolist() == [Attr.UNKNOWN.value]


def test_the_engine_only_withdraws_flags(plain: Engine, engine: Engine) -> None:
    # The zoomed look never adds a bare head: with it, the flags are a subset of those without.
    for photo in sorted(PHOTOS.glob("*.jpg")):
        frame = cv2.imread(str(photo))
        before = plain.detect([frame], smoking=False)[0].people.data[HELMET]
        after = engine.detect([frame], smoking=False)[0].people.data[HELMET]
        assert set(np.flatnonzero(after == Attr.NO.value)) <= set(np.flatnonzero(before == Attr.NO.value))


@pytest.mark.parametrize(
    ("hold_s", "steps", "expected"),
    [
        # (keys flagged, time, kept by the look where looked) per step -> (look, withdraw) per step
        (
            1.0,
            [([7, 8], 0.0, [True, False]), ([8, 7], 0.5, []), ([7, 8], 1.0, [True, True]), ([8], 1.5, [])],
            [([0, 1], []), ([], [0]), ([0, 1], []), ([], [])],
        ),
        # A new track is looked at at once; a verdict from a later clock (reset camera) is stale.
        (
            1.0,
            [([7], 5.0, [False]), ([7, 9], 5.2, [False]), ([7], 2.0, [True])],
            [([0], []), ([1], [0]), ([0], [])],
        ),
        # hold_s 0: a look on every frame, as the engine does on photos.
        (
            0.0,
            [([7], 0.0, [False]), ([7], 0.2, [False]), ([7], 0.4, [True])],
            [([0], []), ([0], []), ([0], [])],
        ),
    ],
)
def test_zoom_memory(
    hold_s: float,
    steps: list[tuple[list[int], float, list[bool]]],
    expected: list[tuple[list[int], list[int]]],
) -> None:
    memory = ZoomMemory(hold_s)
    got = []
    for keys, now, kept in steps:
        look, withdraw = memory.due(keys, now)
        got.append((look, withdraw))
        memory.remember([keys[i] for i in look], kept, now)
    assert got == expected


def test_the_engine_looks_only_at_the_people_it_is_given(engine: Engine) -> None:
    frame = cv2.imread(str(BARE[0]))
    scene = engine.detect([frame], smoking=False, zoom=False)[0]
    flagged = np.flatnonzero(scene.people.data[HELMET] == Attr.NO.value)
    assert len(flagged) and ZOOM_BARE_SCORE not in scene.people.data
    engine.check_zoom(frame, scene, [])
    assert np.isnan(scene.people.data[ZOOM_BARE_SCORE]).all()
    engine.check_zoom(frame, scene, flagged[:1])
    scores = scene.people.data[ZOOM_BARE_SCORE]
    assert np.flatnonzero(~np.isnan(scores)).tolist() == flagged[:1].tolist()
    assert scene.timings_ms["zoom"] > 0
