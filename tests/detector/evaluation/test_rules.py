"""Stage rules applied to stored scores (the valid-split grids of detector/evaluation/rules.py)."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from detector.evaluation.rules import HEADS, VESTS, StageRule, apply_rule
from detector.heads import HEAD_BARE_SCORE, HEAD_HELMET_SCORE, HEAD_HINT
from detector.types import HELMET, VEST
from detector.vests import VEST_BARE_SCORE, VEST_SCORE


def _heads(bare: float, helmet: float, hint: bool, value: str = "unknown") -> sv.Detections:
    return sv.Detections(
        xyxy=np.zeros((1, 4)),
        data={
            HELMET: np.array([value], object),
            HEAD_BARE_SCORE: np.array([bare]),
            HEAD_HELMET_SCORE: np.array([helmet]),
            HEAD_HINT: np.array([hint]),
        },
    )


@pytest.mark.parametrize(
    ("bare", "helmet", "hint", "value", "after"),
    [
        (0.5, 0.1, False, "unknown", "no"),  # the classifier alone
        (0.1, 0.1, True, "unknown", "no"),  # a weak bare head box where the classifier sees no hard hat
        (0.1, 0.1, False, "unknown", "unknown"),  # neither
        (0.1, 0.5, True, "unknown", "unknown"),  # a hint, but the classifier sees a hard hat
        (0.9, 0.0, True, "yes", "yes"),  # the detector's own hard hat stands
    ],
)
def test_head_rules_count_the_hints(bare: float, helmet: float, hint: bool, value: str, after: str) -> None:
    people = _heads(bare, helmet, hint, value)
    ((revised, _, _),) = apply_rule([(people, np.zeros((0, 4)), np.array([]))], StageRule(0.35, 0.2), HEADS)
    assert revised.data[HELMET].tolist() == [after]
    assert people.data[HELMET].tolist() == [value]  # the stored photo is left as it was


def test_vest_rules_have_no_hints() -> None:
    people = sv.Detections(
        xyxy=np.zeros((1, 4)),
        data={
            VEST: np.array(["unknown"], object),
            VEST_BARE_SCORE: np.array([0.1]),
            VEST_SCORE: np.array([0.0]),
        },
    )
    ((revised, _, _),) = apply_rule([(people, np.zeros((0, 4)), np.array([]))], StageRule(0.35, 0.2), VESTS)
    assert revised.data[VEST].tolist() == ["unknown"]
