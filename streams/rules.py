"""The violation rules of one camera: persistence, one incident per kind, start / update / end.

Pure logic with no frames in it, so that it can be tested as a table. The pipeline feeds it, per frame and
kind, an observation for each tracked person ("violating or not, with this score"); it answers with the
event updates to send and whether each needs a fresh snapshot.

* A person's violation is *confirmed* when it held in ``k`` of their last ``n`` observations and the
  first of those was at least ``min_duration_s`` ago.
* A confirmed person with no open incident of that kind starts one (``start``). Another person confirmed
  while it is open joins it (``update``, more people), so supervisors get one alert per incident.
* While open, a clearly better observation replaces the snapshot (``update``), at most every
  ``update_interval_s``.
* The incident ends when none of its people has violated for ``cooldown_s``, whether they complied or
  left (``end``, with ``ended_at`` the last time it held). Each person belongs to one incident per kind.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from streams.events import EventKind, EventUpdate, Phase


@dataclass(frozen=True, slots=True)
class Persistence:
    """How long a violation must hold on one person before it counts."""

    k: int = 3
    n: int = 5
    min_duration_s: float = 2.0


@dataclass(frozen=True, slots=True)
class RuleParams:
    """Per-kind persistence and incident timing.

    Attributes:
        persistence: per kind; kinds absent here use ``default``.
        default: persistence of kinds not listed.
        cooldown_s: an incident stays open this long after its last violation; new people join it.
        update_interval_s: least time between two snapshot updates of one incident.
        min_score_gain: how much better an observation must score to replace the snapshot.
    """

    persistence: dict[EventKind, Persistence] = field(default_factory=dict)
    default: Persistence = field(default_factory=Persistence)
    cooldown_s: float = 30.0
    update_interval_s: float = 5.0
    min_score_gain: float = 0.05

    def of(self, kind: EventKind) -> Persistence:
        """Persistence of ``kind``."""
        return self.persistence.get(kind, self.default)


@dataclass(frozen=True, slots=True)
class Observation:
    """One person in one frame, for one kind."""

    track_id: int
    violating: bool
    score: float = 0.0
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """An update to send; ``snapshot`` says the current frame should become the evidence."""

    update: EventUpdate
    snapshot: bool


@dataclass(slots=True)
class _Track:
    window: deque[bool]
    first_positive: float | None = None
    last_seen: float = 0.0
    confirmed: bool = False


@dataclass(slots=True)
class _Incident:
    last: EventUpdate
    members: set[int]
    last_violation: float
    best_score: float
    last_snapshot: float


class ViolationRules:
    """Rules of one camera.

    Args:
        site_id: the site.
        camera_id: the camera.
        params: persistence and timing.

    Example:
        >>> params = RuleParams(default=Persistence(k=2, n=3, min_duration_s=0))
        >>> rules = ViolationRules("site", "gate", params)
        >>> seen = [Observation(track_id=7, violating=True)]
        >>> [d.update.phase.value for t in (0, 1) for d in rules.observe(t, EventKind.NO_HELMET, seen)]
        ['start']
    """

    def __init__(self, site_id: str, camera_id: str, params: RuleParams | None = None) -> None:
        self.site_id = site_id
        self.camera_id = camera_id
        self.params = params or RuleParams()
        self._tracks: dict[tuple[EventKind, int], _Track] = {}
        self._open: dict[EventKind, _Incident] = {}

    def open_incidents(self) -> dict[EventKind, EventUpdate]:
        """The last update sent of every open incident."""
        return {kind: inc.last for kind, inc in self._open.items()}

    def observe(
        self, now: float, kind: EventKind, observations: list[Observation], frame_time: float | None = None
    ) -> list[Decision]:
        """Take this frame's observations of ``kind`` and return the updates to send.

        Args:
            now: the frame's time (epoch seconds).
            kind: the rule.
            observations: one per tracked person the rule looked at (people outside zones, or a rule
                not armed now, are left out or passed as not violating).
            frame_time: capture time recorded on the updates (``now`` by default).
        """
        persistence = self.params.of(kind)
        decisions: list[Decision] = []
        newly_confirmed: list[Observation] = []
        violating_members: list[Observation] = []
        incident = self._open.get(kind)
        for obs in observations:
            track = self._tracks.setdefault((kind, obs.track_id), _Track(deque(maxlen=persistence.n)))
            track.last_seen = now
            track.window.append(obs.violating)
            if obs.violating:
                track.first_positive = now if track.first_positive is None else track.first_positive
            elif not any(track.window):
                track.first_positive, track.confirmed = None, False
            track.confirmed = (
                sum(track.window) >= persistence.k
                and track.first_positive is not None
                and now - track.first_positive >= persistence.min_duration_s
            )
            if track.confirmed and obs.violating:
                if incident is not None and obs.track_id in incident.members:
                    violating_members.append(obs)
                else:
                    newly_confirmed.append(obs)

        stamp = now if frame_time is None else frame_time
        for obs in newly_confirmed:
            if incident is None:
                update = EventUpdate.begin(
                    kind,
                    self.site_id,
                    self.camera_id,
                    started_at=now,
                    now=now,
                    score=obs.score,
                    people_count=1,
                    track_ids=(obs.track_id,),
                    best_box=obs.box,
                    frame_time=stamp,
                )
                incident = _Incident(update, {obs.track_id}, now, obs.score, now)
                self._open[kind] = incident
                decisions.append(Decision(update, snapshot=True))
            else:
                incident.members.add(obs.track_id)
                violating_members.append(obs)
                people = max(incident.last.people_count, len(violating_members))
                better = obs.score > incident.best_score + self.params.min_score_gain
                changes: dict[str, object] = {
                    "people_count": people,
                    "track_ids": tuple(sorted(incident.members)),
                    "frame_time": stamp,
                }
                if better:
                    changes.update(score=obs.score, best_box=obs.box)
                    incident.best_score, incident.last_snapshot = obs.score, now
                incident.last = incident.last.next(Phase.UPDATE, now, **changes)
                decisions.append(Decision(incident.last, snapshot=better))

        if incident is not None and violating_members:
            incident.last_violation = now
            best = max(violating_members, key=lambda o: o.score)
            people = len({o.track_id for o in violating_members})
            better = (
                best.score > incident.best_score + self.params.min_score_gain
                and now - incident.last_snapshot >= self.params.update_interval_s
            )
            if not decisions and (better or people > incident.last.people_count):
                changes = {"people_count": max(people, incident.last.people_count), "frame_time": stamp}
                if better:
                    changes.update(score=best.score, best_box=best.box)
                    incident.best_score, incident.last_snapshot = best.score, now
                incident.last = incident.last.next(Phase.UPDATE, now, **changes)
                decisions.append(Decision(incident.last, snapshot=better))

        decisions += self.expire(now, kinds=(kind,))
        return decisions

    def expire(self, now: float, kinds: tuple[EventKind, ...] | None = None) -> list[Decision]:
        """End incidents with no violation for ``cooldown_s`` and forget people long gone."""
        decisions = []
        for kind in list(self._open) if kinds is None else kinds:
            incident = self._open.get(kind)
            if incident is not None and now - incident.last_violation >= self.params.cooldown_s:
                del self._open[kind]
                end = incident.last.next(Phase.END, now, ended_at=incident.last_violation, frame_time=None)
                decisions.append(Decision(end, snapshot=False))
        horizon = self.params.cooldown_s + 60.0
        self._tracks = {key: t for key, t in self._tracks.items() if now - t.last_seen < horizon}
        return decisions

    def close_all(self, now: float, reason: str) -> list[Decision]:
        """End every open incident now (the worker is stopping)."""
        decisions = []
        for kind, incident in list(self._open.items()):
            del self._open[kind]
            end = incident.last.next(
                Phase.END, now, ended_at=incident.last_violation, frame_time=None, details={"reason": reason}
            )
            decisions.append(Decision(end, snapshot=False))
        return decisions
