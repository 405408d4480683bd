"""The per-camera pipeline: tracking, zoomed looks, zones, schedule, smoking checks, face attempts, rules,
evidence."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from detector.engine import Engine, Scene
from detector.smoking import SmokingScheduler
from detector.timing import StageTimer
from detector.types import HELMET, SMOKING, VEST, Attr, subset
from detector.zoom import ZOOM_BARE_SCORE, ZoomMemory
from streams.events import EventKind, EventUpdate
from streams.evidence import EvidenceMaker
from streams.mainstream import MainStream, main_evidence
from streams.memory import FalseAlarmMemory, normalised_box, signature
from streams.presence import FaceIdentifier, OfficerPresence
from streams.rules import Observation, RuleParams, ViolationRules
from streams.schedule import Armed, Schedule
from streams.sinks import Sink

logger = logging.getLogger(__name__)

#: Which person attribute, with which value, makes each kind of violation.
RULE_ATTRIBUTE: dict[EventKind, tuple[str, str]] = {
    EventKind.NO_HELMET: (HELMET, Attr.NO.value),
    EventKind.NO_VEST: (VEST, Attr.NO.value),
    EventKind.SMOKING: (SMOKING, Attr.YES.value),
}


@dataclass(frozen=True, slots=True)
class CameraRules:
    """What one camera watches for and where.

    Attributes:
        armed: per kind, when it raises events; kinds left out are off.
        zones: polygons in relative coordinates (0..1); rules apply to people whose feet are inside one,
            or everywhere when there are none.
        detect_fps: the camera's detect rate (the tracker's frame rate).
    """

    armed: dict[EventKind, Armed] = field(
        default_factory=lambda: {kind: Armed.ALWAYS for kind in RULE_ATTRIBUTE}
    )
    zones: tuple[tuple[tuple[float, float], ...], ...] = ()
    detect_fps: float = 5.0


class ZoneFilter:
    """Relative polygons turned into supervision zones once the frame size is known."""

    def __init__(self, zones: Sequence[Sequence[tuple[float, float]]]) -> None:
        self.relative = [np.array(z, dtype=np.float64) for z in zones]
        self._size: tuple[int, int] | None = None
        self._zones: list[sv.PolygonZone] = []

    def inside(self, detections: sv.Detections, frame_shape: tuple[int, ...]) -> np.ndarray:
        """Mask of detections whose bottom centre lies in any zone (all ``True`` without zones)."""
        if not self.relative:
            return np.ones(len(detections), dtype=bool)
        h, w = frame_shape[:2]
        if self._size != (w, h):
            self._size = (w, h)
            self._zones = [
                sv.PolygonZone(
                    polygon=np.round(z * [w, h]).astype(np.int32),
                    triggering_anchors=(sv.Position.BOTTOM_CENTER,),
                )
                for z in self.relative
            ]
        mask = np.zeros(len(detections), dtype=bool)
        for zone in self._zones:
            mask |= zone.trigger(detections)
        return mask


class CameraPipeline:
    """Turns one camera's scenes into event updates.

    Args:
        site_id: the site.
        camera_id: the camera.
        engine: the shared engine (for smoking checks and zoomed looks on chosen tracks).
        sink: where updates go.
        evidence: snapshot encoder.
        rules: what to watch for and where.
        rule_params: persistence and incident timing.
        schedule: working hours.
        smoking: which tracks to check for smoking on each frame.
        faces: names tracks against the officer gallery, if the site has one.
        presence: the site's officer presence, fed with sightings.
        memory: the site's false-alarm memory: a violating person matching one of this camera's entries
            of the kind is taken as not violating, and counted in :attr:`suppressed`.

    Each update of a violation carries, in ``details["people"]``, every violating person of its incident
    seen so far with their normalised box and appearance signature (``streams.memory``), from which the
    API remembers them when a supervisor marks the event a false alarm.
    """

    def __init__(
        self,
        *,
        site_id: str,
        camera_id: str,
        engine: Engine,
        sink: Sink,
        evidence: EvidenceMaker,
        rules: CameraRules,
        rule_params: RuleParams,
        schedule: Schedule,
        smoking: SmokingScheduler,
        faces: FaceIdentifier | None = None,
        presence: OfficerPresence | None = None,
        memory: FalseAlarmMemory | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.engine = engine
        self.sink = sink
        self.evidence = evidence
        self.rules = rules
        self.schedule = schedule
        self.smoking = smoking
        self.faces = faces
        self.presence = presence
        self.memory = memory
        #: Violating looks suppressed by the false-alarm memory, per kind, since the start.
        self.suppressed: dict[str, int] = {}
        self._people: dict[tuple[EventKind, int], dict[str, object]] = {}
        # ByteTrack from Roboflow's trackers package (it left supervision in 0.30). Its defaults suit
        # strong detectors; ours scores people from 0.25, so tracks start and continue lower.
        self.tracker = ByteTrackTracker(
            frame_rate=rules.detect_fps,
            lost_track_buffer=max(1, round(2 * rules.detect_fps)),
            track_activation_threshold=0.25,
            high_conf_det_threshold=0.35,
            minimum_consecutive_frames=1,
        )
        #: Each track's last verdict of the zoomed look at its bare head (the engine's ``zoom.hold_s``).
        self.zoom_memory = ZoomMemory(engine.settings.zoom.hold_s)
        self.zones = ZoneFilter(rules.zones)
        self.violations = ViolationRules(site_id, camera_id, rule_params)
        self.frames = 0
        self.timer = StageTimer()
        #: The camera's main stream: snapshots come from it, at the detect frame's moment, when set.
        self.main_stream: MainStream | None = None

    def process(self, frame: np.ndarray, frame_time: float, scene: Scene) -> list[EventUpdate]:
        """Track the scene's people, apply the rules and emit what they decide; return the updates.

        The time of each stage (the engine's and this pipeline's own) adds up in :attr:`timer`.
        """
        start = time.perf_counter()
        sent = self._process(frame, frame_time, scene)
        self.timer.merge(scene.timings_ms)
        self.timer.add("pipeline", (time.perf_counter() - start) * 1000.0)
        return sent

    def _process(self, frame: np.ndarray, frame_time: float, scene: Scene) -> list[EventUpdate]:
        self.frames += 1
        tracked = self.tracker.update(scene.people)
        if tracked.tracker_id is not None:
            tracked = subset(tracked, tracked.tracker_id >= 0)  # -1: not (yet) a confirmed track
        scene = replace(scene, people=tracked)
        track_ids = [int(t) for t in (tracked.tracker_id if tracked.tracker_id is not None else [])]
        if EventKind.NO_HELMET in self.rules.armed:
            self._zoom(frame, frame_time, scene, track_ids)
        checked_smoking: set[int] = set()
        if EventKind.SMOKING in self.rules.armed and self.engine.smoking is not None and track_ids:
            chosen = self.smoking.choose(track_ids, frame_time)
            self.engine.check_smoking(frame, scene, chosen)
            checked_smoking = set(chosen)
        self._faces(frame, frame_time, tracked, track_ids)

        inside = self.zones.inside(tracked, frame.shape)
        sent: list[EventUpdate] = []
        for kind, armed in self.rules.armed.items():
            attribute, bad = RULE_ATTRIBUTE[kind]
            live = self.schedule.armed(armed, frame_time)
            observations = []
            for i, tid in enumerate(track_ids):
                if kind is EventKind.SMOKING and i not in checked_smoking:
                    continue
                violating = live and bool(inside[i]) and tracked.data[attribute][i] == bad
                if violating and self._remembered(frame, frame_time, kind, tracked.xyxy[i]):
                    violating = False
                observations.append(
                    Observation(
                        track_id=tid,
                        violating=violating,
                        score=float(tracked.confidence[i]) if tracked.confidence is not None else 0.0,
                        box=tuple(float(v) for v in tracked.xyxy[i]),  # type: ignore[arg-type]
                    )
                )
            for decision in self.violations.observe(frame_time, kind, observations, frame_time):
                update = self._with_people(decision.update, frame, tracked, track_ids)
                if decision.snapshot:
                    update = self._with_evidence(update, frame, frame_time, scene)
                self.sink.emit(update)
                sent.append(update)
        if self._people:
            open_ = self.violations.open_incidents()
            self._people = {
                key: person
                for key, person in self._people.items()
                if key[0] in open_ and key[1] in open_[key[0]].track_ids
            }
        return sent

    def _zoom(self, frame: np.ndarray, now: float, scene: Scene, track_ids: list[int]) -> None:
        """The zoomed look at the tracks flagged without a hard hat whose verdict is due; the held verdicts
        of the others (:class:`detector.zoom.ZoomMemory`)."""
        stage = self.engine.zoom
        people = scene.people
        if stage is None or not track_ids or ZOOM_BARE_SCORE in people.data:  # off, nobody, or looked already
            return
        if not stage.looks_at(scene.grey):  # nor do held verdicts apply there
            return
        helmet = people.data[HELMET]
        flagged = [i for i in range(len(track_ids)) if helmet[i] == Attr.NO.value]
        if not flagged:
            return
        look, withdraw = self.zoom_memory.due([track_ids[i] for i in flagged], now)
        for j in withdraw:
            helmet[flagged[j]] = Attr.UNKNOWN.value
        if look:
            self.engine.check_zoom(frame, scene, [flagged[j] for j in look])
            scores = people.data[ZOOM_BARE_SCORE]
            looked = [flagged[j] for j in look if not np.isnan(scores[flagged[j]])]  # nan: over the budget
            self.zoom_memory.remember(
                [track_ids[i] for i in looked], [helmet[i] == Attr.NO.value for i in looked], now
            )

    def _with_evidence(
        self, update: EventUpdate, frame: np.ndarray, frame_time: float, scene: Scene
    ) -> EventUpdate:
        """The update with its snapshots: of the main stream's frame at ``frame_time`` when the camera has
        one (its offset in ``details``), else of the detect frame."""
        if self.main_stream is not None:
            found = main_evidence(self.main_stream, frame, frame_time, scene)
            if found is not None:
                image, main_scene, details = found
                update = replace(update, details={**update.details, **details})
                return _with_evidence(update, self.evidence, image, main_scene)
            update = replace(update, details={**update.details, "snapshot_from": "substream"})
        return _with_evidence(update, self.evidence, frame, scene)

    def _remembered(self, frame: np.ndarray, now: float, kind: EventKind, box: np.ndarray) -> bool:
        """Whether a violating person matches the false-alarm memory (and count it when so)."""
        if self.memory is None or not self.memory.entries(self.camera_id, kind.value):
            return False
        where = normalised_box(box, frame.shape)
        if not self.memory.candidates(self.camera_id, kind.value, where, now):
            return False  # the signature is only computed for a person where an entry is
        if not self.memory.matches(self.camera_id, kind.value, where, signature(frame, box), now):
            return False
        self.suppressed[kind.value] = self.suppressed.get(kind.value, 0) + 1
        return True

    def _with_people(
        self, update: EventUpdate, frame: np.ndarray, tracked: sv.Detections, track_ids: list[int]
    ) -> EventUpdate:
        """The update with its incident's violating people (box and signature) in ``details``."""
        for i, tid in enumerate(track_ids):
            if tid in update.track_ids and (update.kind, tid) not in self._people:  # as first confirmed
                self._people[(update.kind, tid)] = {
                    "track_id": tid,
                    "box": list(normalised_box(tracked.xyxy[i], frame.shape)),
                    "signature": signature(frame, tracked.xyxy[i]),
                }
        people = [
            self._people[(update.kind, t)] for t in update.track_ids if (update.kind, t) in self._people
        ]
        if not people:
            return update
        return replace(update, details={**update.details, "people": people})

    def _faces(self, frame: np.ndarray, now: float, tracked: sv.Detections, track_ids: list[int]) -> None:
        """Sight every named track; make one face attempt per frame, on the first track still needing one."""
        if self.faces is None:
            return
        self.faces.forget(set(track_ids))
        attempted = False
        for i, tid in enumerate(track_ids):
            name = self.faces.name_of(tid)
            if name is None and not attempted and self.faces.wants(tid):
                attempted = True
                name = self.faces.attempt(frame, tid, tracked.xyxy[i])
            if name is not None and self.presence is not None:
                for update in self.presence.sighting(now, name, self.camera_id):
                    self.sink.emit(update)

    def close(self, now: float, reason: str) -> None:
        """End the open incidents (the worker stops)."""
        for decision in self.violations.close_all(now, reason):
            self.sink.emit(decision.update)

    def expire(self, now: float) -> None:
        """End incidents whose cooldown passed, also when no frame comes (camera offline)."""
        for decision in self.violations.expire(now):
            self.sink.emit(decision.update)


def _with_evidence(update: EventUpdate, maker: EvidenceMaker, frame: np.ndarray, scene: Scene) -> EventUpdate:
    return replace(update, evidence=maker.make(frame, scene))
