"""The face gallery on its own, with made-up embeddings (recognition on real photos: test_faces.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detector.face_gallery import EnrollmentError, Gallery


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


@pytest.mark.parametrize(
    ("probe", "name", "candidate"),
    [
        ((1.0, 0.05, 0.0), "li", "li"),  # close to one of li's two enrolments
        ((0.0, 1.0, 0.1), "wang", "wang"),
        (
            (-1.0, 0.0, 0.0),
            None,
            "wang",
        ),  # far from everyone: the best (wang, 0.0) is still named as candidate
        ((0.6, 0.0, 0.8), None, "li"),  # nearest is li, but not near enough
    ],
)
def test_match_names_the_nearest_identity_above_the_threshold(
    probe: tuple[float, ...], name: str | None, candidate: str | None
) -> None:
    gallery = Gallery(threshold=0.9)
    assert gallery.enroll("li", [np.array([2.0, 0.0, 0.0]), np.array([1.0, 0.0, -1.0])]) == 2
    gallery.enroll("wang", [np.array([0.0, 3.0, 0.0])])
    match = gallery.match(unit(*probe))
    assert (match.name, match.best_candidate) == (name, candidate)


def test_enrolling_nobody_is_refused_and_a_saved_gallery_loads_back(tmp_path: Path) -> None:
    gallery = Gallery(threshold=0.5)
    with pytest.raises(EnrollmentError, match="no usable photo"):
        gallery.enroll("li", [])
    gallery.enroll("li", [np.array([0.0, 4.0])])
    gallery.save(tmp_path / "gallery.npz")
    loaded = Gallery.load(tmp_path / "gallery.npz")
    assert loaded.threshold == 0.5 and np.allclose(loaded.identities["li"], [[0.0, 1.0]])
    assert loaded.remove("li") and not loaded.remove("li")
