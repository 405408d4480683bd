"""The false-alarm memory's matching as a table: box overlap and colour likeness, per camera and kind,
until the entry expires; and the signature of real crops."""

from __future__ import annotations

import numpy as np
import pytest

from streams.memory import (
    SIGNATURE_SIZE,
    FalseAlarmMemory,
    MatchParams,
    MemoryEntry,
    iou,
    normalised_box,
    signature,
    similarity,
)

NOW = 1_800_000_000.0
FRAME = (480, 640, 3)
BOX = (0.25, 0.2, 0.45, 0.8)  # normalised; in pixels: 160, 96, 288, 384


def scene(colour: tuple[int, int, int], noise: int = 0, seed: int = 0) -> np.ndarray:
    """A grey frame with a coloured "person" in BOX, optionally with pixel noise (another look of it)."""
    frame = np.full(FRAME, 128, np.uint8)
    frame[96:384, 160:288] = colour
    frame[96:160, 200:248] = (60, 90, 200)  # a face-coloured head
    if noise:
        rng = np.random.default_rng(seed)
        jitter = rng.integers(-noise, noise + 1, FRAME)
        frame = np.clip(frame.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
    return frame


def pixels(box: tuple[float, float, float, float]) -> tuple[float, ...]:
    return (box[0] * FRAME[1], box[1] * FRAME[0], box[2] * FRAME[1], box[3] * FRAME[0])


ORANGE = (0, 128, 255)  # BGR: the cone that looks like a hard hat
BLUE = (200, 60, 20)  # a worker's jacket
REMEMBERED = signature(scene(ORANGE), pixels(BOX))


def memory(
    expires_at: float = NOW + 86400, camera: str = "gate", kind: str = "no_helmet"
) -> FalseAlarmMemory:
    held = FalseAlarmMemory(MatchParams(iou=0.5, similarity=0.8))
    held.replace([MemoryEntry(1, camera, kind, BOX, REMEMBERED, expires_at)])
    return held


@pytest.mark.parametrize(
    ("case", "held", "camera", "kind", "box", "frame", "suppressed"),
    [
        ("same box, same look", memory(), "gate", "no_helmet", BOX, scene(ORANGE), True),
        ("same box, same look, other frame", memory(), "gate", "no_helmet", BOX, scene(ORANGE, 12, 1), True),
        ("slightly moved box", memory(), "gate", "no_helmet", (0.26, 0.21, 0.46, 0.8), scene(ORANGE), True),
        ("same box, different look", memory(), "gate", "no_helmet", BOX, scene(BLUE), False),
        ("different box", memory(), "gate", "no_helmet", (0.6, 0.2, 0.8, 0.8), scene(ORANGE), False),
        ("expired", memory(expires_at=NOW - 1), "gate", "no_helmet", BOX, scene(ORANGE), False),
        ("other kind", memory(), "gate", "no_vest", BOX, scene(ORANGE), False),
        ("other camera", memory(), "yard", "no_helmet", BOX, scene(ORANGE), False),
        ("empty memory", FalseAlarmMemory(), "gate", "no_helmet", BOX, scene(ORANGE), False),
    ],
)
def test_a_detection_is_suppressed_only_where_and_as_it_was_rejected(
    case: str,
    held: FalseAlarmMemory,
    camera: str,
    kind: str,
    box: tuple[float, float, float, float],
    frame: np.ndarray,
    suppressed: bool,
) -> None:
    sig = signature(frame, pixels(box))
    assert held.matches(camera, kind, normalised_box(pixels(box), FRAME), sig, NOW) is suppressed, case


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 1, 1), (0, 0, 1, 1), 1.0),
        ((0, 0, 1, 1), (1, 1, 2, 2), 0.0),
        ((0, 0, 2, 1), (1, 0, 3, 1), 1 / 3),
        ((0, 0, 1, 1), (0.5, 0.5, 0.5, 0.5), 0.0),  # degenerate
    ],
)
def test_iou(a: tuple[float, ...], b: tuple[float, ...], expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)  # type: ignore[arg-type]


def test_signatures_have_unit_length_and_compare_zero_to_one() -> None:
    orange, blue = signature(scene(ORANGE), pixels(BOX)), signature(scene(BLUE), pixels(BOX))
    assert len(orange) == SIGNATURE_SIZE
    assert np.linalg.norm(orange) == pytest.approx(1.0, abs=1e-3)
    assert similarity(orange, orange) == pytest.approx(1.0, abs=1e-3)
    assert similarity(orange, blue) < 0.5
    assert signature(scene(ORANGE), (700, 500, 800, 600)) == [0.0] * SIGNATURE_SIZE  # outside the frame
    assert normalised_box((-5, 10, 700, 240), FRAME) == (0.0, 0.0208, 1.0, 0.5)


def test_an_entry_reads_the_api_listing() -> None:
    entry = MemoryEntry.from_json(
        {
            "id": 7,
            "site_id": "s",
            "camera_id": "gate",
            "kind": "no_vest",
            "box": [0.1, 0.2, 0.3, 0.4],
            "signature": REMEMBERED,
            "expires_at": "2027-01-01T00:00:00Z",
        }
    )
    assert (entry.id, entry.camera_id, entry.kind, entry.box) == (7, "gate", "no_vest", (0.1, 0.2, 0.3, 0.4))
    assert entry.expires_at == pytest.approx(1798761600.0)
