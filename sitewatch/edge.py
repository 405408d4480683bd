"""Assembling the edge worker from a configuration: engine, sink, pipelines, officer presence."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from detector.engine import Engine
from detector.face_gallery import Gallery
from detector.faces import FaceAnalyzer
from detector.kinds import PERSON_KINDS
from sitewatch.config import Config, RuleConfig
from sitewatch.config.detection import FACE_SIZE
from sitewatch.config.services import FACE_TRIES, HTTP_SINK, OFFICER_SYNC
from sitewatch.config.watching import CAMERA, PERSISTENCE, RULES, SCHEDULE, ZONE
from sitewatch.gallery_sync import OfficerSync, api_fetch
from sitewatch.yamlpos import ConfigError
from streams.events import EventKind, EventUpdate
from streams.mainstream import MainStream
from streams.memory import FalseAlarmMemory
from streams.outbox import Outbox
from streams.pipeline import CameraPipeline, CameraRules
from streams.presence import FaceIdentifier, OfficerPresence
from streams.rules import RuleParams
from streams.schedule import Armed, Schedule
from streams.sinks import SIGHTINGS_PATH, MemorySink, Sink, json_poster
from streams.worker import Worker

logger = logging.getLogger(__name__)


def schedule_of(config: Config) -> Schedule:
    """The site's working hours."""
    return SCHEDULE.build(config.schedule, **ZONE.arguments(config.site))


def rule_params_of(config: Config) -> RuleParams:
    """Persistence per kind and incident timing."""
    return RULES.build(
        config.rules,
        persistence={kind: PERSISTENCE.build(rule.persistence) for kind, rule in _rules(config).items()},
    )


def _rules(config: Config) -> dict[EventKind, RuleConfig]:
    # RulesConfig has a rule per person kind, named for the kind (tests/test_kinds_everywhere.py checks it).
    return {EventKind(kind): getattr(config.rules, kind) for kind in PERSON_KINDS}


def make_sink(config: Config) -> Sink:
    """The configured sink: in memory, or HTTP through the outbox."""
    if config.sink.type == "memory":
        return MemorySink(callback=log_update)
    assert config.sink.url is not None
    outbox = Outbox(config.sink.outbox or config.data_dir / "outbox.sqlite")
    return HTTP_SINK.build(config.sink, outbox=outbox)


def log_update(update: EventUpdate) -> None:
    """Log an event update as it leaves (the in-process sink's default)."""
    logger.info(
        "event %s %s %s camera=%s people=%d score=%.2f",
        update.kind.value,
        update.phase.value,
        update.event_id[:8],
        update.camera_id,
        update.people_count,
        update.score,
    )


def build_worker(
    config: Config,
    *,
    sink: Sink | None = None,
    engine: Engine | None = None,
    gallery: Gallery | None = None,
    on_sighting: Callable[[float, str, str], None] | None = None,
    memory: FalseAlarmMemory | None = None,
) -> Worker:
    """A worker for every enabled camera of ``config``.

    Args:
        config: the site configuration.
        sink: override the configured sink (tests, ``sitewatch run``).
        engine: reuse a loaded engine.
        gallery: the officers to recognise, kept fresh by the caller (``officers.from_api``); default:
            the configured gallery file, if any.
        on_sighting: told of each officer sighting ``(time, officer, camera)``.
        memory: the site's false-alarm memory, kept fresh by the caller (``sitewatch.false_alarms``).
    """
    engine = engine or Engine(config.engine_settings())
    sink = sink or make_sink(config)
    clips = None
    if config.worker.clip_seconds > 0:  # every update passes through it, in order, off the inference thread
        clips = config.worker.clips(sink)
        sink = clips
    schedule = schedule_of(config)
    presence = faces = None
    if gallery is None and config.officers.gallery is not None:
        gallery = Gallery.load(Path(config.officers.gallery))
    if gallery is not None:
        gallery.threshold = config.face.match_threshold
        analyzer = FaceAnalyzer.load(config.face_settings(), config.models.dir)
        presence = OfficerPresence(
            config.site.id, schedule, config.officers.absent_after_min * 60.0, on_sighting=on_sighting
        )
        face_params = FACE_TRIES.build(config.officers, **FACE_SIZE.arguments(config.face))
    worker = Worker(
        engine,
        sink,
        presence=presence,
        params=config.worker.params(),
    )
    evidence = config.worker.evidence(config.site.language)
    armed = {kind: Armed(rule.armed) for kind, rule in _rules(config).items() if rule.enabled}
    params = rule_params_of(config)
    motion = config.motion.params()
    for camera_id, camera in config.cameras.items():
        if not camera.enabled:
            continue
        if presence is not None and gallery is not None:
            faces = FaceIdentifier(analyzer, gallery, face_params)
        pipeline = CameraPipeline(
            site_id=config.site.id,
            camera_id=camera_id,
            engine=engine,
            sink=sink,
            evidence=evidence,
            rules=CameraRules(
                armed=armed,
                zones=tuple(tuple(point for point in zone) for zone in camera.zones),
                detect_fps=camera.detect_fps,
            ),
            rule_params=params,
            schedule=schedule,
            smoking=config.smoking.scheduler(),
            faces=faces,
            presence=presence,
            memory=memory,
        )
        worker.add_camera(
            camera_id,
            camera.source(),
            pipeline,
            **CAMERA.arguments(camera),
            motion=motion,
            site_id=config.site.id,
            ring=clips.ring(camera_id) if clips is not None else None,
            main=MainStream(camera_id, main) if (main := camera.main_source()) is not None else None,
        )
    return worker


def officer_sync(config: Config) -> OfficerSync | None:
    """For ``officers.from_api`` on an edge box: the gallery from the central API, sightings back to it."""
    if not config.officers.from_api:
        return None
    if config.sink.type != "http" or not config.sink.url:
        raise ConfigError(
            "officers.from_api: the gallery comes from the API, so sink.type must be http with a url"
        )
    return OFFICER_SYNC.build(
        config.officers,
        site_id=config.site.id,
        gallery=Gallery(),
        fetch=api_fetch(config.sink.url, config.sink.api_key, config.site.id),
        send=json_poster(config.sink.url, config.sink.api_key, SIGHTINGS_PATH),
    )
