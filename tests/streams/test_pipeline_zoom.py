"""The zoomed look on a camera (``streams/pipeline.py``): each track's verdict stands ``zoom.hold_s`` seconds,
on the real models and a bare-headed worker of ``tests/data/ppe`` held in front of the camera."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from detector.engine import Engine, EngineSettings
from detector.smoking import SmokingScheduler
from detector.types import HELMET, Attr
from detector.zoom import ZoomMemory, ZoomParams, ZoomStage
from streams.events import EventKind, Phase
from streams.evidence import EvidenceMaker
from streams.pipeline import CameraPipeline, CameraRules
from streams.rules import Observation, RuleParams
from streams.schedule import Armed, Schedule
from streams.sinks import MemorySink
from tests.conftest import DATA, CountingModel

BARE = sorted((DATA / "ppe" / "images").glob("IMG_*.jpg"))[0]  # a worker without a hard hat, flagged
SCHEDULE = Schedule("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), time(8), time(18))
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
FPS = 5.0


class Recorder:
    """The pipeline's rules, recording what each look at a track decided for ``no_helmet``."""

    def __init__(self, rules: object) -> None:
        self.rules = rules
        self.violating: list[list[bool]] = []

    def observe(
        self, now: float, kind: EventKind, observations: list[Observation], frame_time: float
    ) -> object:
        if kind is EventKind.NO_HELMET:
            self.violating.append([o.violating for o in observations])
        return self.rules.observe(now, kind, observations, frame_time)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.rules, name)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(EngineSettings(smoking_model=None))


def swaying(seconds: float) -> list[tuple[float, np.ndarray]]:
    """The photo held ``seconds`` at the camera's detect rate, swaying by a pixel or two as a camera does."""
    photo = cv2.imread(str(BARE))
    count = round(seconds * FPS)
    return [(MONDAY_9 + i / FPS, np.roll(photo, (i % 3, (i * 2) % 3), axis=(0, 1))) for i in range(count)]


def play(
    engine: Engine,
    frames: list[tuple[float, np.ndarray]],
    monkeypatch: pytest.MonkeyPatch,
    hold_s: float,
    *,
    flagged: bool = True,
) -> tuple[MemorySink, Recorder, CountingModel]:
    """Run ``frames`` through a camera pipeline as the worker does (the engine without the zoomed look, the
    pipeline taking it per track); return its events, its no_helmet looks and the zoomed crops run."""
    counting = CountingModel(engine.zoom_model(False))
    monkeypatch.setattr(engine, "ppe_zoom", counting)
    sink = MemorySink()
    pipeline = CameraPipeline(
        site_id="site",
        camera_id="gate",
        engine=engine,
        sink=sink,
        evidence=EvidenceMaker(),
        rules=CameraRules(armed={EventKind.NO_HELMET: Armed.ALWAYS}, detect_fps=FPS),
        rule_params=RuleParams(),
        schedule=SCHEDULE,
        smoking=SmokingScheduler(),
    )
    pipeline.zoom_memory = ZoomMemory(hold_s)
    recorder = Recorder(pipeline.violations)
    pipeline.violations = recorder  # type: ignore[assignment]
    for t, frame in frames:
        scene = engine.detect([frame], smoking=False, zoom=False)[0]
        if flagged:
            assert (scene.people.data[HELMET] == Attr.NO.value).any()  # flagged before the look
        pipeline.process(frame, t, scene)
    return sink, recorder, counting


def test_a_held_verdict_costs_one_look_a_second_and_decides_as_looking_on_every_frame(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = swaying(3.0)
    every, every_looks, every_crops = play(engine, frames, monkeypatch, hold_s=0.0)
    held, held_looks, held_crops = play(engine, frames, monkeypatch, hold_s=1.0)
    assert len(every_crops.crops) >= len(frames)  # one look per frame at least (per flagged track)
    tracks = max(len(v) for v in every_looks.violating)
    assert len(held_crops.crops) <= tracks * 3  # 3 s held 1 s: a look at 0, 1 and 2 s per track
    assert held_looks.violating == every_looks.violating  # the photo's bare head is confirmed either way
    assert any(any(v) for v in held_looks.violating)
    assert [(u.kind, u.phase) for u in held.updates] == [(u.kind, u.phase) for u in every.updates]
    assert (EventKind.NO_HELMET, Phase.START) in [(u.kind, u.phase) for u in held.updates]


def test_a_withdrawn_flag_stays_withdrawn_while_held(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # A look that confirms nothing (confirm 0.99): every flag is withdrawn, by a look or by the held verdict.
    monkeypatch.setattr(engine, "zoom", ZoomStage(ZoomParams(confirm=0.99)))
    sink, looks, crops = play(engine, swaying(2.0), monkeypatch, hold_s=1.0)
    assert 0 < len(crops.crops) < len(looks.violating)  # some frames had no look, only the held verdict
    assert not any(any(v) for v in looks.violating)
    assert sink.updates == []


def test_frames_without_tracked_people_pass(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: the tracker's empty result has no attribute columns, and the look read the helmet column.
    empty = np.full((360, 640, 3), (40, 120, 90), np.uint8)  # in colour: a grey frame is not looked at
    frames = [(MONDAY_9 - 1.0, empty), *swaying(0.6), (MONDAY_9 + 1.0, empty)]
    _, looks, crops = play(engine, frames, monkeypatch, hold_s=1.0, flagged=False)
    assert looks.violating[0] == looks.violating[-1] == [] and len(crops.crops) >= 1
