"""The rule state machine as tables: frames of observations in, event phases out."""

from __future__ import annotations

import pytest

from streams.events import EventKind, Phase
from streams.rules import Observation, Persistence, RuleParams, ViolationRules

KIND = EventKind.NO_HELMET
# A frame: (time, [(track, violating, score), ...])
Frame = tuple[float, list[tuple[int, bool, float]]]


def run(frames: list[Frame], params: RuleParams) -> list[tuple[float, str, int, tuple[int, ...]]]:
    rules = ViolationRules("site", "gate", params)
    out = []
    for t, people in frames:
        observations = [Observation(track, bad, score, (0, 0, 10, 10)) for track, bad, score in people]
        for decision in rules.observe(t, KIND, observations):
            u = decision.update
            out.append((t, u.phase.value, u.people_count, u.track_ids))
    return out


def params(
    k: int = 3, n: int = 5, min_s: float = 0.0, cooldown: float = 10.0, interval: float = 0.0
) -> RuleParams:
    return RuleParams(default=Persistence(k, n, min_s), cooldown_s=cooldown, update_interval_s=interval)


def steady(track: int, bad: bool, start: float, stop: float, score: float = 0.8) -> list[Frame]:
    return [(float(t), [(track, bad, score)]) for t in range(int(start), int(stop))]


@pytest.mark.parametrize(
    ("frames", "rule", "expected"),
    [
        # k of n: two looks are not enough, the third starts the event
        (steady(1, True, 0, 2), params(k=3), []),
        (steady(1, True, 0, 3), params(k=3), [(2.0, "start", 1, (1,))]),
        # flicker: violating in 3 of the last 5 looks
        (
            [
                (0.0, [(1, True, 0.8)]),
                (1.0, [(1, False, 0)]),
                (2.0, [(1, True, 0.8)]),
                (3.0, [(1, False, 0)]),
                (4.0, [(1, True, 0.8)]),
            ],
            params(k=3, n=5),
            [(4.0, "start", 1, (1,))],
        ),
        # too sparse: 3 in a window of 3 never happens
        ([(float(t), [(1, t % 2 == 0, 0.8)]) for t in range(10)], params(k=3, n=3), []),
        # minimum duration delays the start beyond k looks
        (steady(1, True, 0, 6), params(k=2, n=3, min_s=4.0), [(4.0, "start", 1, (1,))]),
        # one event per track and kind, however long it lasts (cooldown far away)
        (steady(1, True, 0, 30), params(k=2, cooldown=100), [(1.0, "start", 1, (1,))]),
    ],
)
def test_persistence(
    frames: list[Frame], rule: RuleParams, expected: list[tuple[float, str, int, tuple[int, ...]]]
) -> None:
    assert run(frames, rule) == expected


def test_a_second_person_joins_the_open_incident() -> None:
    frames = steady(1, True, 0, 4) + [(float(t), [(1, True, 0.8), (2, True, 0.8)]) for t in range(4, 8)]
    assert run(frames, params(k=2, n=3)) == [(1.0, "start", 1, (1,)), (5.0, "update", 2, (1, 2))]


def test_the_incident_ends_a_cooldown_after_the_last_violation() -> None:
    rules = ViolationRules("site", "gate", params(k=2, n=3, cooldown=10))
    for t in range(4):
        rules.observe(float(t), KIND, [Observation(1, True, 0.8)])
    for t in range(4, 13):
        assert rules.observe(float(t), KIND, [Observation(1, False, 0.0)]) == []
    (end,) = rules.observe(13.0, KIND, [])
    assert end.update.phase is Phase.END and end.update.ended_at == 3.0 and end.update.seq == 1


@pytest.mark.parametrize(
    ("gap", "phases"),
    [
        (5, ["start", "update"]),  # within the cooldown: the new person joins, no new alert
        (20, ["start", "end", "start"]),  # after it: a new incident
    ],
)
def test_a_new_track_within_the_cooldown_joins_otherwise_starts_anew(gap: int, phases: list[str]) -> None:
    frames = steady(1, True, 0, 3) + steady(2, True, 3 + gap, 6 + gap)
    assert [phase for _, phase, _, _ in run(frames, params(k=2, n=3, cooldown=10))] == phases


def test_a_clearly_better_observation_replaces_the_snapshot_at_most_every_interval() -> None:
    rules = ViolationRules("site", "gate", params(k=1, n=1, interval=5))
    decisions = []
    # 0.9 at t=1 comes too soon after the start; 0.92 at t=6 is due; 0.99 at t=7 too soon after it.
    for t, score in [(0, 0.5), (1, 0.9), (6, 0.92), (7, 0.99)]:
        decisions += rules.observe(float(t), KIND, [Observation(1, True, score)])
    got = [
        (d.update.phase.value, d.snapshot, round(d.update.score, 2), d.update.updated_at) for d in decisions
    ]
    assert got == [("start", True, 0.5, 0.0), ("update", True, 0.92, 6.0)]


def test_sequence_numbers_and_ids_follow_the_event() -> None:
    rules = ViolationRules("site", "gate", params(k=1, n=1, cooldown=2))
    updates = [d.update for t in range(3) for d in rules.observe(float(t), KIND, [Observation(t, True, 0.8)])]
    updates += [d.update for d in rules.observe(10.0, KIND, [])]
    assert [u.seq for u in updates] == [0, 1, 2, 3]
    assert len({u.event_id for u in updates}) == 1 and updates[-1].phase is Phase.END


def test_close_all_ends_open_incidents_with_a_reason() -> None:
    rules = ViolationRules("site", "gate", params(k=1, n=1))
    rules.observe(0.0, KIND, [Observation(1, True, 0.8)])
    (end,) = rules.close_all(5.0, "worker stopped")
    assert end.update.phase is Phase.END and end.update.details == {"reason": "worker stopped"}
    assert rules.open_incidents() == {}
