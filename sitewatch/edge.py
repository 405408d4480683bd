"""Assembling the edge worker from a configuration: engine, sink, pipelines, officer presence."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from detector.engine import Engine
from detector.faces import FaceAnalyzer, Gallery
from detector.kinds import PERSON_KINDS
from detector.smoking import SmokingScheduler
from sitewatch.config import Config, RuleConfig
from sitewatch.officers import OfficerSync, api_fetch
from sitewatch.yamlpos import ConfigError
from streams.clips import ClipSink
from streams.events import EventKind, EventUpdate
from streams.evidence import EvidenceMaker
from streams.memory import FalseAlarmMemory
from streams.motion import MotionParams
from streams.pipeline import CameraPipeline, CameraRules
from streams.presence import FaceIdentifier, FaceParams, OfficerPresence
from streams.rules import Persistence, RuleParams
from streams.schedule import Armed, Schedule
from streams.sinks import SIGHTINGS_PATH, HttpSink, MemorySink, Outbox, Sink, json_poster
from streams.sources import SourceParams
from streams.worker import Worker, WorkerParams

logger = logging.getLogger(__name__)


def schedule_of(config: Config) -> Schedule:
    """The site's working hours."""
    return Schedule(
        timezone=config.site.timezone,
        days=tuple(config.schedule.days),
        start=config.schedule.start,
        end=config.schedule.end,
    )


def rule_params_of(config: Config) -> RuleParams:
    """Persistence per kind and incident timing."""
    rules = _rules(config)
    return RuleParams(
        persistence={
            kind: Persistence(rule.persistence.k, rule.persistence.n, rule.persistence.min_duration_s)
            for kind, rule in rules.items()
        },
        cooldown_s=config.rules.cooldown_s,
        update_interval_s=config.rules.update_interval_s,
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
    return HttpSink(config.sink.url, config.sink.api_key, outbox, backoff_max_s=config.sink.retry_max_s)


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
        clips = ClipSink(sink, config.worker.clip_seconds, max_bytes=int(config.worker.clip_max_mb * 2**20))
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
        face_params = FaceParams(config.officers.attempts, config.officers.agree, config.face.min_face_px)
    worker = Worker(
        engine,
        sink,
        presence=presence,
        params=WorkerParams(queue_size=config.worker.queue_size, batch_size=config.worker.batch_size),
    )
    evidence = EvidenceMaker(config.worker.jpeg_quality)
    armed = {kind: Armed(rule.armed) for kind, rule in _rules(config).items() if rule.enabled}
    params = rule_params_of(config)
    motion = MotionParams(
        enabled=config.motion.enabled,
        pixel_delta=config.motion.pixel_delta,
        min_changed=config.motion.min_changed,
        force_interval_s=config.motion.force_interval_s,
    )
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
            smoking=SmokingScheduler(config.smoking.recheck_frames, config.smoking.max_crops_per_frame),
            faces=faces,
            presence=presence,
            memory=memory,
        )
        worker.add_camera(
            camera_id,
            SourceParams(url=camera.url, loop=camera.loop),
            pipeline,
            detect_fps=camera.detect_fps,
            motion=motion,
            offline_after_s=camera.offline_after_s,
            site_id=config.site.id,
            ring=clips.ring(camera_id) if clips is not None else None,
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
    return OfficerSync(
        config.site.id,
        Gallery(),
        api_fetch(config.sink.url, config.sink.api_key, config.site.id),
        json_poster(config.sink.url, config.sink.api_key, SIGHTINGS_PATH),
        refresh_s=config.officers.refresh_min * 60.0,
    )
