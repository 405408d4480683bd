"""Choosing a stage's rule on the valid splits: the engine runs once with the stage looking but never
deciding (``flag`` above 1), and every rule of a grid is then applied to the scores it left on the people.

Only valid splits are to be passed here; the chosen rule is then scored once on the test splits with
``sitewatch eval --alarms``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from detector.evaluation.alarms import KINDS, KindCounts, Scored, score_image
from detector.kinds import Violation
from detector.ppe import Bands
from detector.types import VEST, Attr
from detector.vests import VEST_BARE_SCORE, VEST_SCORE


@dataclass(frozen=True, slots=True)
class VestRule:
    """One rule of the grid: flag when ``no_vest`` ≥ ``flag`` and ``vest`` ≤ ``max_vest``."""

    flag: float
    max_vest: float


def apply_vest_rule(photos: list[Scored], rule: VestRule) -> list[Scored]:
    """Copies of the photos' people with ``vest`` revised by ``rule`` from the stored scores.

    Example:
        >>> import supervision as sv
        >>> people = sv.Detections(xyxy=np.zeros((2, 4)), data={VEST: np.array(["unknown"] * 2, object),
        ...     VEST_BARE_SCORE: np.array([0.9, 0.2]), VEST_SCORE: np.array([0.05, 0.1])})
        >>> out = apply_vest_rule([(people, np.zeros((0, 4)), np.array([]))], VestRule(0.5, 0.1))
        >>> out[0][0].data[VEST].tolist()
        ['no', 'unknown']
    """
    out: list[Scored] = []
    for people, xyxy, names in photos:
        revised = copy.copy(people)
        revised.data = dict(people.data)
        vest = np.array(people.data[VEST], dtype=object)
        bare = np.asarray(people.data.get(VEST_BARE_SCORE, np.full(len(people), np.nan)), np.float64)
        yes = np.asarray(people.data.get(VEST_SCORE, np.full(len(people), np.nan)), np.float64)
        with np.errstate(invalid="ignore"):
            flag = (vest == Attr.UNKNOWN.value) & (bare >= rule.flag) & (yes <= rule.max_vest)
        vest[flag] = Attr.NO.value
        revised.data[VEST] = vest
        out.append((revised, xyxy, names))
    return out


def vest_grid(
    photos: dict[str, list[Scored]], rules: Iterable[VestRule], bands: Bands
) -> list[dict[str, Any]]:
    """The no_vest alarm figures of every rule on every split (``photos``: split name to scored photos).

    Returns:
        One row per (rule, split): ``flag``, ``max_vest``, ``split`` and the kind's summary.
    """
    spec = next(s for s in KINDS if s.kind == Violation.NO_VEST)
    rows = []
    for rule in rules:
        for split, scored in photos.items():
            counts = KindCounts()
            for people, xyxy, names in apply_vest_rule(scored, rule):
                score_image(counts, spec, people, xyxy, names, bands)
            rows.append({"flag": rule.flag, "max_vest": rule.max_vest, "split": split, **counts.summary()})
    return rows
