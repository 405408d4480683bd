from __future__ import annotations

import numpy as np
import pytest

from detector.ppe import Bands, assign, associate, band_boxes, violations
from detector.types import HELMET, INFERRED, SMOKING, VEST, make_detections

NAMES = {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}
CLASS = {name: i for i, name in NAMES.items()}
PERSON = ("person", [100, 100, 160, 300], 0.9)  # 60 wide, 200 tall: head band y 70..170, torso 120..250


def dets(*rows: tuple[str, list[float], float]) -> object:
    return make_detections(
        np.array([r[1] for r in rows], np.float32).reshape(-1, 4),
        np.array([r[2] for r in rows], np.float32),
        np.array([CLASS[r[0]] for r in rows], np.int64),
        NAMES,
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # (helmet, vest, inferred) per resulting person
        ([PERSON], [("unknown", "unknown", False)]),
        ([PERSON, ("helmet", [115, 95, 145, 125], 0.8)], [("yes", "unknown", False)]),
        ([PERSON, ("no_helmet", [115, 100, 145, 130], 0.8)], [("no", "unknown", False)]),
        # a helmet sticking out above a tight person box still counts
        ([PERSON, ("helmet", [115, 80, 145, 110], 0.8)], [("yes", "unknown", False)]),
        ([PERSON, ("vest", [105, 150, 155, 230], 0.7)], [("unknown", "yes", False)]),
        ([PERSON, ("no_vest", [105, 150, 155, 230], 0.7)], [("unknown", "no", False)]),
        # a helmet carried at hip height is not worn
        ([PERSON, ("helmet", [120, 220, 150, 250], 0.8)], [("unknown", "unknown", False)]),
        # helmet and bare head on one person: the stronger box decides
        (
            [PERSON, ("helmet", [115, 95, 145, 125], 0.4), ("no_helmet", [115, 95, 145, 125], 0.8)],
            [("no", "unknown", False)],
        ),
        (
            [PERSON, ("helmet", [115, 95, 145, 125], 0.8), ("no_helmet", [115, 95, 145, 125], 0.4)],
            [("yes", "unknown", False)],
        ),
        # a bare head far from any person is still a violation
        (
            [PERSON, ("no_helmet", [400, 50, 430, 80], 0.6)],
            [("unknown", "unknown", False), ("no", "unknown", True)],
        ),
        ([("no_vest", [400, 100, 460, 200], 0.6)], [("unknown", "no", True)]),
        # a lone helmet (on a shelf) raises nothing
        ([("helmet", [400, 50, 430, 80], 0.6)], []),
    ],
)
def test_association(
    rows: list[tuple[str, list[float], float]], expected: list[tuple[str, str, bool]]
) -> None:
    people = associate(dets(*rows))
    got = [
        (people.data[HELMET][i], people.data[VEST][i], bool(people.data[INFERRED][i]))
        for i in range(len(people))
    ]
    assert got == expected
    assert all(s == "no" for s in people.data[SMOKING])


def test_each_item_goes_to_the_person_whose_band_covers_it() -> None:
    left = ("person", [100, 100, 160, 300], 0.9)
    right = ("person", [170, 100, 230, 300], 0.9)
    people = associate(
        dets(left, right, ("no_helmet", [175, 95, 220, 125], 0.7), ("helmet", [110, 95, 150, 125], 0.7))
    )
    assert people.data[HELMET].tolist() == ["yes", "no"]


def test_violations_are_listed_per_person() -> None:
    people = associate(
        dets(PERSON, ("no_helmet", [115, 100, 145, 130], 0.8), ("no_vest", [105, 150, 155, 230], 0.7))
    )
    people.data[SMOKING][0] = "yes"
    assert [v.value for v in violations(people, 0)] == ["no_helmet", "no_vest", "smoking"]


@pytest.mark.parametrize(
    ("items", "regions", "min_cover", "owners"),
    [
        ([[0, 0, 10, 10]], [[0, 0, 10, 10]], 0.5, [0]),
        ([[0, 0, 10, 10]], [[5, 0, 10, 10]], 0.5, [0]),  # exactly half covered
        ([[0, 0, 10, 10]], [[6, 0, 10, 10]], 0.5, [-1]),
        ([[0, 0, 10, 10]], [[0, 0, 4, 10], [0, 0, 8, 10]], 0.5, [1]),
        ([[0, 0, 10, 10]], [], 0.5, [-1]),
    ],
)
def test_assign(
    items: list[list[float]], regions: list[list[float]], min_cover: float, owners: list[int]
) -> None:
    got = assign(np.array(items, np.float32), np.array(regions, np.float32).reshape(-1, 4), min_cover)
    assert got.tolist() == owners


def test_band_geometry_follows_the_settings() -> None:
    bands = Bands(head=(-0.1, 0.3), side_margin=0.5)
    box = band_boxes(np.array([[100.0, 100.0, 160.0, 300.0]]), bands.head, bands.side_margin)
    np.testing.assert_allclose(box, [[70, 80, 190, 160]])
