"""Who is on site: the safety officer's presence.

:class:`FaceIdentifier` names person tracks: a few face attempts per track, only when the face is large
enough, and a name only when several attempts agree. :class:`OfficerPresence` turns sightings into a
timeline and raises ``officer_absent`` during working hours when no officer was seen for a while.
Cameras that went offline are watched in :mod:`streams.offline`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from detector.face_gallery import Gallery
from detector.faces import FaceAnalyzer
from streams.events import EventKind, EventUpdate, Phase
from streams.schedule import Schedule

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaceParams:
    """Attributes:
    attempts: face attempts per track before giving up on it.
    agree: attempts that must name the same officer.
    min_face_px: smaller faces are not tried (and not counted as attempts).
    """

    attempts: int = 4
    agree: int = 2
    min_face_px: int = 40


@dataclass(slots=True)
class _TrackFaces:
    tries: int = 0
    votes: Counter[str] = field(default_factory=Counter)
    name: str | None = None


class FaceIdentifier:
    """Names tracked people against the site's officer gallery.

    Args:
        analyzer: face detector and embedder.
        gallery: the enrolled officers (embeddings only).
        params: attempts and agreement.
    """

    def __init__(self, analyzer: FaceAnalyzer, gallery: Gallery, params: FaceParams | None = None) -> None:
        self.analyzer = analyzer
        self.gallery = gallery
        self.params = params or FaceParams()
        self._tracks: dict[int, _TrackFaces] = {}

    def wants(self, track_id: int) -> bool:
        """Whether this track still needs a face attempt."""
        state = self._tracks.get(track_id)
        return state is None or (state.name is None and state.tries < self.params.attempts)

    def name_of(self, track_id: int) -> str | None:
        """The officer this track was named as, if any."""
        state = self._tracks.get(track_id)
        return state.name if state else None

    def attempt(self, frame: np.ndarray, track_id: int, box: np.ndarray) -> str | None:
        """Try to recognise the face in the top of ``box``; return the name once the track is named."""
        state = self._tracks.setdefault(track_id, _TrackFaces())
        x1, y1, x2, y2 = (int(v) for v in box)
        h = y2 - y1
        crop = frame[max(0, y1 - h // 10) : max(0, y1) + h // 2, max(0, x1) : max(0, x2)]
        if crop.size == 0:
            return state.name
        faces = self.analyzer.faces(crop, min_size=self.params.min_face_px)
        if not faces:
            return state.name  # no usable face yet: not an attempt
        state.tries += 1
        face = faces[0]
        if face.embedding is None:
            return state.name
        match = self.gallery.match(face.embedding)
        if match.name is not None:
            state.votes[match.name] += 1
            name, votes = state.votes.most_common(1)[0]
            if votes >= self.params.agree:
                state.name = name
        return state.name

    def forget(self, live_tracks: set[int]) -> None:
        """Drop the state of tracks no longer seen."""
        self._tracks = {t: s for t, s in self._tracks.items() if t in live_tracks}


class OfficerPresence:
    """The site's officer presence: a timeline of sightings and the ``officer_absent`` event.

    Args:
        site_id: the site.
        schedule: working hours; absence is only raised during them.
        absent_after_s: no sighting for this long during working hours starts ``officer_absent``.
        gap_s: sightings closer than this join one presence interval of the timeline.
        on_sighting: told of every sighting ``(time, officer, camera)`` (the API's presence timeline).
    """

    def __init__(
        self,
        site_id: str,
        schedule: Schedule,
        absent_after_s: float,
        gap_s: float = 120.0,
        on_sighting: Callable[[float, str, str], None] | None = None,
    ) -> None:
        self.site_id = site_id
        self.on_sighting = on_sighting
        self.schedule = schedule
        self.absent_after_s = absent_after_s
        self.gap_s = gap_s
        self.timeline: list[tuple[float, float, str, str]] = []  # (from, to, officer, camera)
        self.last_seen: float | None = None
        self._since: float | None = None  # start of the current stretch without officer
        self._absent: EventUpdate | None = None

    def start(self, now: float) -> None:
        """Begin counting absence from ``now`` (the worker started)."""
        self._since = now

    def sighting(self, now: float, officer: str, camera_id: str) -> list[EventUpdate]:
        """Record that ``officer`` was seen (and tell ``on_sighting``); ends an open absence."""
        if self.on_sighting is not None:
            try:
                self.on_sighting(now, officer, camera_id)
            except Exception:  # reporting must never stop the video path
                logger.exception("sighting of %s not reported", officer)
        if self.timeline and self.timeline[-1][2] == officer and now - self.timeline[-1][1] <= self.gap_s:
            start, _, _, first_camera = self.timeline[-1]
            self.timeline[-1] = (start, now, officer, first_camera)
        else:
            self.timeline.append((now, now, officer, camera_id))
        self.last_seen = now
        self._since = now
        if self._absent is None:
            return []
        end = self._absent.next(Phase.END, now, ended_at=now, details={"seen": officer, "camera": camera_id})
        self._absent = None
        return [end]

    def close(self, now: float, reason: str) -> list[EventUpdate]:
        """End an open ``officer_absent`` (the worker stops): nobody watches for the officer any more."""
        if self._absent is None:
            return []
        end = self._absent.next(Phase.END, now, ended_at=now, details={"reason": reason})
        self._absent = None
        return [end]

    def tick(self, now: float) -> list[EventUpdate]:
        """Start ``officer_absent`` when due (working hours only)."""
        if self._absent is not None or self._since is None:
            return []
        if not self.schedule.is_working(now):
            self._since = now  # absence only accrues during working hours
            return []
        if now - self._since < self.absent_after_s:
            return []
        self._absent = EventUpdate.begin(
            EventKind.OFFICER_ABSENT,
            self.site_id,
            None,
            started_at=self._since + self.absent_after_s,
            now=now,
            details={"last_seen": self.last_seen},
        )
        return [self._absent]
