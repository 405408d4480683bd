from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from detector.types import make_detections
from streams.motion import MotionGate, MotionParams
from streams.pipeline import ZoneFilter
from streams.schedule import Armed, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = Schedule("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), time(8), time(18))
NIGHT = Schedule("Asia/Shanghai", ("mon",), time(22), time(6))


def at(day: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of 2026-11-(23+day) hour:minute in Shanghai (the 23rd is a Monday)."""
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=SHANGHAI).timestamp()


@pytest.mark.parametrize(
    ("schedule", "ts", "working"),
    [
        (DAY, at(0, 8), True),  # Monday 08:00: starts
        (DAY, at(0, 7, 59), False),
        (DAY, at(0, 17, 59), True),
        (DAY, at(0, 18), False),  # the end is exclusive
        (DAY, at(5, 10), False),  # Saturday is not a working day
        (NIGHT, at(0, 23), True),  # Monday night shift
        (NIGHT, at(1, 5), True),  # ... still Monday's shift after midnight
        (NIGHT, at(1, 7), False),
        (NIGHT, at(1, 23), False),  # Tuesday has no night shift
    ],
)
def test_working_hours_in_the_site_time_zone(schedule: Schedule, ts: float, working: bool) -> None:
    assert schedule.is_working(ts) is working


@pytest.mark.parametrize(
    ("mode", "ts", "armed"),
    [
        (Armed.WORKING_HOURS, at(0, 10), True),
        (Armed.WORKING_HOURS, at(0, 23), False),
        (Armed.OFF_HOURS, at(0, 23), True),
        (Armed.OFF_HOURS, at(0, 10), False),
        (Armed.ALWAYS, at(5, 3), True),
    ],
)
def test_armed_modes(mode: Armed, ts: float, armed: bool) -> None:
    assert DAY.armed(mode, ts) is armed


def test_motion_gate_skips_still_frames_and_forces_a_look() -> None:
    gate = MotionGate(MotionParams(force_interval_s=3.0))
    still = np.full((240, 320, 3), 100, np.uint8)
    moved = still.copy()
    moved[100:180, 100:200] = 250
    decisions = [
        gate.check(frame, t) for frame, t in [(still, 0), (still, 1), (still, 2), (still, 3), (moved, 3.5)]
    ]
    assert decisions == [True, False, False, True, True]
    assert gate.skipped == 2


def test_motion_gate_can_be_switched_off() -> None:
    gate = MotionGate(MotionParams(enabled=False))
    still = np.zeros((60, 80, 3), np.uint8)
    assert all(gate.check(still, float(t)) for t in range(5)) and gate.skipped == 0


@pytest.mark.parametrize(
    ("zones", "inside"),
    [
        ((), [True, True]),  # no zones: rules apply everywhere
        ((((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)),), [False, True]),  # lower half only
        (
            (
                ((0.0, 0.0), (0.5, 0.0), (0.5, 0.6), (0.0, 0.6)),
                ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)),
            ),
            [True, True],
        ),
        ((((0.5, 0.5), (1.0, 0.5), (1.0, 1.0)),), [False, False]),  # (170, 95) lies below this triangle
    ],
)
def test_zones_use_the_feet_of_each_person(zones: tuple, inside: list[bool]) -> None:  # type: ignore[type-arg]
    # On a 200x100 frame: a person standing at y=40 (upper half, left) and one at y=95 (lower, right).
    people = make_detections(
        np.array([[20, 0, 60, 40], [150, 50, 190, 95]], np.float32),
        np.array([0.9, 0.9]),
        np.array([0, 0]),
        {0: "person"},
    )
    assert ZoneFilter(zones).inside(people, (100, 200, 3)).tolist() == inside
