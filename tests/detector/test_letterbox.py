from __future__ import annotations

import numpy as np
import pytest

from detector.letterbox import PAD_VALUE, Letterbox, letterbox


@pytest.mark.parametrize(
    ("shape", "size", "scale", "pad_x", "pad_y"),
    [
        ((640, 640), (640, 640), 1.0, 0, 0),  # already the right size: untouched
        ((100, 200), (640, 640), 3.2, 0, 160),  # wide: bars top and bottom
        ((200, 100), (640, 640), 3.2, 160, 0),  # tall: bars left and right
        ((1080, 1920), (640, 640), 1 / 3, 0, 140),  # a 1080p camera frame shrinks
        ((480, 641), (416, 416), 416 / 641, 0, 52),  # odd sizes round consistently
    ],
)
def test_letterbox_places_the_image(
    shape: tuple[int, int], size: tuple[int, int], scale: float, pad_x: int, pad_y: int
) -> None:
    image = np.full((*shape, 3), 200, np.uint8)
    out, lb = letterbox(image, size)
    assert out.shape == (*size, 3)
    assert lb.scale == pytest.approx(scale)
    assert (lb.pad_x, lb.pad_y) == (pad_x, pad_y)
    if pad_y:
        assert (out[0] == PAD_VALUE).all() and (out[-1] == PAD_VALUE).all()
        assert (out[pad_y + 1, :] == 200).all()
    if pad_x:
        assert (out[:, 0] == PAD_VALUE).all() and (out[:, -1] == PAD_VALUE).all()


@pytest.mark.parametrize("shape", [(100, 200), (1080, 1920), (333, 517)])
def test_boxes_map_back_to_the_original(shape: tuple[int, int]) -> None:
    h, w = shape
    _, lb = letterbox(np.zeros((h, w, 3), np.uint8), (640, 640))
    original = np.array([[0.1 * w, 0.2 * h, 0.6 * w, 0.9 * h]], np.float32)
    in_input = original * lb.scale + np.array([lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y], np.float32)
    np.testing.assert_allclose(lb.to_original(in_input), original, atol=1e-3)


def test_boxes_are_clipped_to_the_image() -> None:
    # Regression: clipping once wrote into a temporary copy and left boxes outside the frame.
    lb = Letterbox(scale=1.0, pad_x=0, pad_y=0, width=640, height=480)
    out = lb.to_original(np.array([[-5.0, -3.0, 650.0, 500.0]], np.float32))
    assert out.tolist() == [[0.0, 0.0, 640.0, 480.0]]


@pytest.mark.parametrize("shape", [(10, 10), (10, 10, 4), (10, 10, 1)])
def test_letterbox_rejects_non_colour_images(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="H×W×3"):
        letterbox(np.zeros(shape, np.uint8), (64, 64))
