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
from detector.heads import HEAD_BARE_SCORE, HEAD_HELMET_SCORE, HEAD_HINT
from detector.kinds import Violation
from detector.ppe import Bands
from detector.types import HELMET, VEST, Attr
from detector.vests import VEST_BARE_SCORE, VEST_SCORE


@dataclass(frozen=True, slots=True)
class StageRule:
    """One rule of a grid: flag an undecided person when the stage's violation probability is at least
    ``flag`` (or the detector left a hint of the violation there) and its compliant probability at most
    ``max_yes``."""

    flag: float
    max_yes: float


@dataclass(frozen=True, slots=True)
class StageKeys:
    """Where a stage leaves its decision and scores on people, and the violation it raises."""

    attribute: str
    bare: str
    yes: str
    kind: Violation
    hint: str | None = None


VESTS = StageKeys(VEST, VEST_BARE_SCORE, VEST_SCORE, Violation.NO_VEST)
HEADS = StageKeys(HELMET, HEAD_BARE_SCORE, HEAD_HELMET_SCORE, Violation.NO_HELMET, HEAD_HINT)


def apply_rule(photos: list[Scored], rule: StageRule, keys: StageKeys = VESTS) -> list[Scored]:
    """Copies of the photos' people with the stage's attribute revised by ``rule`` from the stored scores.

    Example:
        >>> import supervision as sv
        >>> people = sv.Detections(xyxy=np.zeros((2, 4)), data={VEST: np.array(["unknown"] * 2, object),
        ...     VEST_BARE_SCORE: np.array([0.9, 0.2]), VEST_SCORE: np.array([0.05, 0.1])})
        >>> out = apply_rule([(people, np.zeros((0, 4)), np.array([]))], StageRule(0.5, 0.1))
        >>> out[0][0].data[VEST].tolist()
        ['no', 'unknown']
    """
    out: list[Scored] = []
    for people, xyxy, names in photos:
        revised = copy.copy(people)
        revised.data = dict(people.data)
        value = np.array(people.data[keys.attribute], dtype=object)
        nan = np.full(len(people), np.nan)
        bare = np.asarray(people.data.get(keys.bare, nan), np.float64)
        yes = np.asarray(people.data.get(keys.yes, nan), np.float64)
        no_hint = np.zeros(len(people), bool)
        hint = np.asarray(people.data.get(keys.hint, no_hint) if keys.hint else no_hint, bool)
        with np.errstate(invalid="ignore"):
            flag = (value == Attr.UNKNOWN.value) & ((bare >= rule.flag) | hint) & (yes <= rule.max_yes)
        value[flag] = Attr.NO.value
        revised.data[keys.attribute] = value
        out.append((revised, xyxy, names))
    return out


def rule_grid(
    photos: dict[str, list[Scored]], rules: Iterable[StageRule], bands: Bands, keys: StageKeys = VESTS
) -> list[dict[str, Any]]:
    """The alarm figures of every rule on every split (``photos``: split name to scored photos).

    Returns:
        One row per (rule, split): ``flag``, ``max_yes``, ``split`` and the kind's summary.
    """
    spec = next(s for s in KINDS if s.kind == keys.kind)
    rows = []
    for rule in rules:
        for split, scored in photos.items():
            counts = KindCounts()
            for people, xyxy, names in apply_rule(scored, rule, keys):
                score_image(counts, spec, people, xyxy, names, bands)
            rows.append({"flag": rule.flag, "max_yes": rule.max_yes, "split": split, **counts.summary()})
    return rows
