from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from detector.face_gallery import Gallery
from detector.faces import FaceAnalyzer, enrollment_embedding
from streams.events import EventKind, Phase
from streams.presence import FaceIdentifier, FaceParams, OfficerPresence
from streams.schedule import Schedule

TZ = ZoneInfo("Asia/Shanghai")
SCHEDULE = Schedule("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), time(8), time(18))
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ).timestamp()
MONDAY_20 = datetime(2026, 11, 23, 20, 0, tzinfo=TZ).timestamp()


def test_officer_absent_starts_after_the_delay_and_ends_when_seen() -> None:
    presence = OfficerPresence("site", SCHEDULE, absent_after_s=600)
    presence.start(MONDAY_9)
    assert presence.tick(MONDAY_9 + 599) == []
    (start,) = presence.tick(MONDAY_9 + 600)
    assert start.kind is EventKind.OFFICER_ABSENT and start.phase is Phase.START and start.camera_id is None
    assert presence.tick(MONDAY_9 + 900) == []  # one event, not one per tick
    (end,) = presence.sighting(MONDAY_9 + 1000, "zhang_wei", "gate")
    assert end.phase is Phase.END and end.event_id == start.event_id and end.details["seen"] == "zhang_wei"
    assert presence.tick(MONDAY_9 + 1500) == []  # seen 500 s ago: not absent


def test_no_absence_outside_working_hours() -> None:
    presence = OfficerPresence("site", SCHEDULE, absent_after_s=600)
    presence.start(MONDAY_20)
    assert presence.tick(MONDAY_20 + 7200) == []


def test_sightings_form_a_timeline() -> None:
    presence = OfficerPresence("site", SCHEDULE, absent_after_s=600, gap_s=120)
    for t, camera in [(0, "gate"), (60, "yard"), (100, "gate"), (400, "gate")]:
        presence.sighting(MONDAY_9 + t, "zhang_wei", camera)
    assert [(a - MONDAY_9, b - MONDAY_9) for a, b, _, _ in presence.timeline] == [(0, 100), (400, 400)]


def test_a_track_is_named_only_when_attempts_agree(face_analyzer: FaceAnalyzer, shared_dir: Path) -> None:
    faces = shared_dir / "datasets" / "faces"
    gallery = Gallery(threshold=0.42)
    gallery.enroll(
        "obama",
        [
            enrollment_embedding(face_analyzer, cv2.imread(str(p)), str(p))
            for p in (faces / "train" / "obama").iterdir()
        ],
    )
    identifier = FaceIdentifier(face_analyzer, gallery, FaceParams(attempts=3, agree=2, min_face_px=40))
    frame = cv2.imread(str(faces / "test" / "obama1.jpg"))
    h, w = frame.shape[:2]
    person = np.array([0, 0, w, h * 2], np.float32)  # the photo is the top half of a person box
    assert identifier.attempt(frame, 1, person) is None  # one attempt is not enough
    assert identifier.attempt(frame, 1, person) == "obama"
    assert not identifier.wants(1)

    stranger = cv2.imread(str(faces / "test" / "alex_lacamoire1.jpg"))
    sh, sw = stranger.shape[:2]
    for _ in range(3):
        assert identifier.attempt(stranger, 2, np.array([0, 0, sw, sh * 2], np.float32)) is None
    assert not identifier.wants(2)  # gave up after its attempts


def test_a_named_track_is_sighted_even_after_another_track_used_the_face_attempt(
    face_analyzer: FaceAnalyzer, shared_dir: Path, engine: object
) -> None:
    # Regression: the pipeline stopped at the first face attempt of a frame, so named tracks after it
    # in the frame were not sighted.
    from detector.engine import Engine
    from detector.smoking import SmokingScheduler
    from detector.types import make_detections
    from streams.evidence import EvidenceMaker
    from streams.pipeline import CameraPipeline, CameraRules
    from streams.rules import RuleParams
    from streams.sinks import MemorySink

    assert isinstance(engine, Engine)
    faces = shared_dir / "datasets" / "faces"
    gallery = Gallery(threshold=0.42)
    gallery.enroll(
        "obama",
        [
            enrollment_embedding(face_analyzer, cv2.imread(str(p)), str(p))
            for p in (faces / "train" / "obama").iterdir()
        ],
    )
    identifier = FaceIdentifier(face_analyzer, gallery, FaceParams(attempts=3, agree=1, min_face_px=40))
    photo = cv2.imread(str(faces / "test" / "obama1.jpg"))
    h, w = photo.shape[:2]
    assert identifier.attempt(photo, 7, np.array([0, 0, w, 2 * h], np.float32)) == "obama"
    presence = OfficerPresence("site", SCHEDULE, absent_after_s=600)
    pipeline = CameraPipeline(
        site_id="site",
        camera_id="gate",
        engine=engine,
        sink=MemorySink(),
        evidence=EvidenceMaker(),
        rules=CameraRules(),
        rule_params=RuleParams(),
        schedule=SCHEDULE,
        smoking=SmokingScheduler(),
        faces=identifier,
        presence=presence,
    )
    blank = np.full((h, w, 3), 127, np.uint8)  # track 3 is tried (no face), track 7 is already named
    people = make_detections(
        np.array([[0, 0, w, h], [0, 0, w, h]], np.float32),
        np.array([0.9, 0.9]),
        np.array([0, 0]),
        {0: "person"},
    )
    pipeline._faces(blank, MONDAY_9, people, [3, 7])
    assert [(name, camera) for _, _, name, camera in presence.timeline] == [("obama", "gate")]
