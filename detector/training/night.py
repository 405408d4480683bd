"""Frames at night: what a camera's infrared mode does to a picture, as a fixed transform and as a random
training augmentation.

An infrared picture is grey (no colour: a yellow vest and a grey jacket differ only in brightness), has
less contrast, more sensor noise and softer edges, and retro-reflective strips shine back the camera's own
infrared light. :func:`infrared_like` is the fixed version that ``sitewatch eval --alarms --night`` scores
a split through, so that the day/night gap is one number; :func:`random_infrared` varies each of those
for training.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The fixed transform's settings.
NIGHT_CONTRAST = 0.8
NIGHT_JPEG_QUALITY = 85
NIGHT_NOISE_SIGMA = 6.0
NIGHT_SEED = 0


def _grey(image: np.ndarray) -> np.ndarray:
    """The BGR image's luminance as float ``[H, W]``."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _to_bgr(grey: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(grey, 0, 255).round().astype(np.uint8)[..., None], 3, axis=2)


def infrared_like(image: np.ndarray, *, seed: int = NIGHT_SEED) -> np.ndarray:
    """The fixed infrared-like copy of a BGR ``uint8`` image: grey, contrast 0.8 around its mean, noise of a
    fixed seed (sigma 6), then JPEG at quality 85. The same image always gives the same result.

    Example:
        >>> out = infrared_like(np.full((4, 4, 3), (0, 128, 255), np.uint8))
        >>> out.shape, bool((out[..., 0] == out[..., 2]).all())
        ((4, 4, 3), True)
    """
    grey = _grey(image)
    grey = (grey - grey.mean()) * NIGHT_CONTRAST + grey.mean()
    grey += np.random.default_rng(seed).normal(0.0, NIGHT_NOISE_SIGMA, grey.shape).astype(np.float32)
    ok, data = cv2.imencode(".jpg", _to_bgr(grey), [cv2.IMWRITE_JPEG_QUALITY, NIGHT_JPEG_QUALITY])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR))


def random_infrared(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random infrared-like copy of a BGR ``uint8`` patch for training: grey, contrast 0.55-1.0, a
    brightness shift, noise (sigma 2-12), sometimes a blur, and sometimes the brightest pixels pushed to
    white (retro-reflective strips under infrared light)."""
    grey = _grey(image)
    mean = grey.mean()
    grey = (grey - mean) * rng.uniform(0.55, 1.0) + mean + rng.uniform(-30, 20)
    if rng.random() < 0.4:
        threshold = np.percentile(grey, 97)
        grey = np.where(grey >= threshold, np.maximum(grey, 235.0), grey)
    if rng.random() < 0.4:
        grey = cv2.GaussianBlur(grey, (3, 3), rng.uniform(0.5, 1.2))
    grey += rng.normal(0.0, rng.uniform(2.0, 12.0), grey.shape).astype(np.float32)
    return _to_bgr(grey)
