"""Which pictures are the same photo: by the name a Roboflow export gave the file (:func:`source_stem`) and
by a perceptual hash that survives resizing, re-encoding and letterboxing (:func:`dhash`). Used to keep
every picture of a test split out of a training set (:mod:`detector.training.trainsets`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np


def source_stem(path: Path) -> str:
    """The photo a Roboflow export file came from: ``IMG_12_jpg.rf.<hash>.jpg`` → ``img_12``.

    >>> source_stem(Path("a/-0378D390-png_jpg.rf.4c6b.jpg"))
    '-0378d390-png'
    >>> source_stem(Path("smoke_7.jpg"))
    'smoke_7'
    """
    parts = re.split(r"_(?:jpg|jpeg|png|webp|bmp)\.rf\.", path.name, flags=re.IGNORECASE)
    return (parts[0] if len(parts) > 1 else path.stem).lower()


def dhash(image: np.ndarray) -> int:
    """A 64-bit difference hash of a picture, after cutting away black letterbox bars.

    Two exports of one photo (resized, re-encoded, letterboxed differently) differ by a few bits.
    """
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    rows = np.flatnonzero(grey.max(axis=1) > 16)
    cols = np.flatnonzero(grey.max(axis=0) > 16)
    if rows.size and cols.size:
        grey = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def near_duplicates(hashes: np.ndarray, against: np.ndarray, max_bits: int = 6) -> np.ndarray:
    """A mask over ``hashes``: which lie within ``max_bits`` differing bits of any hash in ``against``."""
    if hashes.size == 0 or against.size == 0:
        return np.zeros(hashes.shape, bool)
    xor = np.bitwise_xor(hashes[:, None], against[None, :])
    bits = np.unpackbits(xor.view(np.uint8).reshape(*xor.shape, 8), axis=-1).sum(axis=-1)
    result: np.ndarray = (bits <= max_bits).any(axis=1)
    return result


def dhashes(images: Iterable[Path]) -> np.ndarray:
    """The :func:`dhash` of every readable picture among ``images`` (unreadable ones are left out)."""
    values = []
    for image in images:
        picture = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        if picture is not None:
            values.append(dhash(picture))
    return np.array(values, np.uint64)
