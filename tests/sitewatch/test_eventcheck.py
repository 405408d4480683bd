"""The event-level check: a hand-labelled composed video through the real worker, events counted."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from sitewatch.config import config_from_text
from sitewatch.eventcheck import Manifest, Segment, attribute, compose, run_check, score
from tests.conftest import DATA

MANIFEST = DATA / "events" / "manifest.yaml"


def manifest(*expects: list[str]) -> Manifest:
    image = next((DATA / "ppe" / "images").glob("*.jpg"))
    return Manifest(segments=[Segment(image=image, expect=e) for e in expects])


@pytest.mark.parametrize(
    ("expects", "starts", "right", "missing", "wrong", "duplicate"),
    [
        ([["no_helmet"], []], [("no_helmet", 0)], {"no_helmet": 1}, {}, {}, {}),
        ([["no_helmet"], []], [("no_helmet", 1)], {}, {"no_helmet": 1}, {"no_helmet": 1}, {}),
        (
            [["no_helmet", "no_vest"]],
            [("no_vest", 0), ("no_vest", 0)],
            {"no_vest": 1},
            {"no_helmet": 1},
            {},
            {"no_vest": 1},
        ),
        ([[]], [("smoking", 0)], {}, {}, {"smoking": 1}, {}),
    ],
    ids=["right", "raised on the wrong photo", "one missing, one twice", "smoking where none was"],
)
def test_events_are_counted_against_the_labels(
    expects: list[list[str]],
    starts: list[tuple[str, int]],
    right: dict[str, int],
    missing: dict[str, int],
    wrong: dict[str, int],
    duplicate: dict[str, int],
) -> None:
    check = score(manifest(*expects), starts)
    assert (dict(check.right), dict(check.missing), dict(check.wrong), dict(check.duplicate)) == (
        right,
        missing,
        wrong,
        duplicate,
    )


def test_an_events_snapshot_is_attributed_to_the_photo_it_shows(tmp_path: Path) -> None:
    loaded = Manifest.load(MANIFEST)
    frames = compose(loaded, tmp_path / "video.mp4")
    capture = cv2.VideoCapture(str(tmp_path / "video.mp4"))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == round(loaded.duration * loaded.fps)
    for index, frame in enumerate(frames):
        jpeg = cv2.imencode(".jpg", cv2.resize(frame, (320, 320)))[1].tobytes()  # a shrunk snapshot
        assert attribute(jpeg, frames) == index


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("segments: [{image: nowhere.jpg}]", "nowhere.jpg not found"),
        ("segments: [{image: manifest.yaml, expect: [no_gloves]}]", "unknown kinds"),
        ("segments: []\nspeed: 2", "speed"),
    ],
)
def test_a_bad_manifest_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Manifest.load(path)


@pytest.mark.slow
def test_the_worker_raises_what_the_labels_say() -> None:
    config = config_from_text(
        """
site: {id: check}
rules:
  no_helmet: {armed: always, persistence: {k: 2, n: 4, min_duration_s: 0.5}}
  no_vest: {armed: always, persistence: {k: 2, n: 4, min_duration_s: 0.5}}
  smoking: {enabled: false}
  cooldown_s: 1
cameras: {}
"""
    )
    check = run_check(Manifest.load(MANIFEST), config, progress=False)
    assert check.raised[0] == []  # the compliant worker raises nothing
    assert dict(check.right) == {"no_helmet": 1, "no_vest": 1}
    assert not check.wrong and not check.missing
