"""The smoking stage's rule table: photo recall where cigarettes are labelled, people and photos flagged
where nobody smokes, from stored proposal scores; and never a test split."""

from __future__ import annotations

import pytest

from detector.engine import Engine
from detector.evaluation.smoking_rules import SplitProposals, rule_rows, split_proposals
from tests.conftest import DATA

# Two labelled photos: one with a strong proposal the verifier doubts, one with a weak one it believes.
SMOKERS = SplitProposals("smoking/val", [[[(0.8, 0.2)]], [[], [(0.3, 0.95)]]], [True, True])
# A building site: three people over two photos, one of them with a proposal.
SITE = SplitProposals("ppe/val", [[[(0.6, 0.4)], []], [[]]], [False, False])


@pytest.mark.parametrize(
    ("conf", "verify", "recall", "people", "photos"),
    [
        (0.25, 0.0, 1.0, 1 / 3, 0.5),
        (0.5, 0.0, 0.5, 1 / 3, 0.5),  # the detector alone at a higher threshold loses the weak one
        (0.25, 0.5, 0.5, 0.0, 0.0),  # the verifier drops the doubted one and the site's false one
        (0.9, 0.5, 0.0, 0.0, 0.0),
    ],
)
def test_rule_rows(conf: float, verify: float, recall: float, people: float, photos: float) -> None:
    (row,) = rule_rows([SMOKERS, SITE], [conf], [verify])
    assert row["smoking/val recall"] == recall
    assert row["ppe/val people"] == round(people, 4)
    assert row["ppe/val photos"] == photos


def test_proposals_of_a_real_photo(engine: Engine) -> None:
    got = split_proposals(engine, DATA / "ppe", "val", floor=0.05, most=2)
    assert len(got.photos) == 2 and got.labelled == [False, False]
    for photo in got.photos:
        for person in photo:
            assert all(0.05 <= score <= 1.0 and 0.0 <= probability <= 1.0 for score, probability in person)


def test_a_test_split_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="test split"):
        split_proposals(engine, DATA / "ppe", "test", floor=0.15, most=None)
