"""The camera-offline watch: ``camera_offline`` after the delay, ended when the camera is back."""

from __future__ import annotations

import pytest

from streams.offline import OfflineWatch


@pytest.mark.parametrize(
    ("health", "phases"),
    [
        # (time, online, offline_since) ticks
        ([(0, False, 0), (5, False, 0), (10, False, 0), (20, False, 0)], ["start"]),
        ([(0, False, 0), (10, False, 0), (12, True, None)], ["start", "end"]),
        ([(0, False, 0), (5, True, None), (20, True, None)], []),  # back before the delay: nothing
    ],
)
def test_camera_offline(health: list[tuple[float, bool, float | None]], phases: list[str]) -> None:
    watch = OfflineWatch("site", "gate", delay_s=10)
    got = [
        u.phase.value for t, online, since in health for u in watch.tick(t, online, since, "stream dropped")
    ]
    assert got == phases
