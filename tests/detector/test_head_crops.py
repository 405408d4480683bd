"""Head crops: the square around a person's head band, and patches that keep what lies there."""

from __future__ import annotations

import numpy as np
import pytest

from detector.head_crops import crop_squares, head_squares
from detector.letterbox import PAD_VALUE
from detector.ppe import Bands


@pytest.mark.parametrize(
    ("person", "bands", "square"),
    [
        # A standing person: the band (48 × 50 px) is nearly square already.
        ((0, 0, 40, 100), Bands(), (-5.0, -15.0, 45.0, 35.0)),
        # A crouching person: the band is wide, the square takes its width and is centred on it.
        ((0, 0, 100, 100), Bands(), (-10.0, -50.0, 110.0, 70.0)),
        # No margins and a band at the top: the square is the top of the box.
        ((10, 20, 30, 60), Bands(head=(0.0, 0.5), side_margin=0.0), (10.0, 20.0, 30.0, 40.0)),
    ],
)
def test_the_square_is_centred_on_the_head_band_and_as_large_as_its_longer_side(
    person: tuple[float, ...], bands: Bands, square: tuple[float, ...]
) -> None:
    got = head_squares(np.array([person], float), bands)
    np.testing.assert_allclose(got[0], square)
    assert got[0, 2] - got[0, 0] == pytest.approx(got[0, 3] - got[0, 1])


def test_no_people_give_no_squares() -> None:
    assert head_squares(np.empty((0, 4)), Bands()).shape == (0, 4)


def test_a_patch_shows_what_lies_in_its_box() -> None:
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[50:70, 100:120] = (0, 0, 255)  # a red square: the "head"
    patch = crop_squares(frame, np.array([[90.0, 40.0, 130.0, 80.0]]), 32)[0]
    # The red square fills the middle half of the box, so it fills the middle half of the patch.
    assert (patch[12:20, 12:20] == (0, 0, 255)).all()
    assert (patch[:6, :6] == 0).all()


@pytest.mark.parametrize("box", [(-20.0, -20.0, 20.0, 20.0), (280.0, 180.0, 320.0, 220.0)])
def test_outside_the_frame_the_patch_is_letterbox_grey(box: tuple[float, ...]) -> None:
    frame = np.zeros((200, 300, 3), np.uint8)
    patch = crop_squares(frame, np.array([box]), 16)[0]
    corner = patch[:4, :4] if box[0] < 0 else patch[-4:, -4:]
    assert (corner == PAD_VALUE).all()
    inside = patch[-4:, -4:] if box[0] < 0 else patch[:4, :4]
    assert (inside == 0).all()


def test_context_widens_the_crop_around_the_same_centre() -> None:
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[40:60, 40:60] = 255
    tight = crop_squares(frame, np.array([[40.0, 40.0, 60.0, 60.0]]), 20)[0]
    wide = crop_squares(frame, np.array([[40.0, 40.0, 60.0, 60.0]]), 20, context=2.0)[0]
    assert (tight == 255).all()
    assert (wide[5:15, 5:15] == 255).all() and (wide[:3] == 0).all()
