"""Each default is written once, in the library: the configuration sections take theirs from it and
build the library's parameters from themselves, and every key and every parameter is accounted for."""

from __future__ import annotations

from typing import Any

import pytest

from detector.engine import EngineSettings
from detector.faces import FaceSettings
from detector.smoking import SmokingScheduler
from sitewatch import config as config_package
from sitewatch.config import CentralConfig, Config, Link, Strict, config_from_text
from sitewatch.config.detection import FACE_SIZE
from sitewatch.config.services import FACE_TRIES
from sitewatch.config.watching import MOTION
from sitewatch.edge import rule_params_of, schedule_of
from streams.memory import MatchParams
from streams.motion import MotionParams
from streams.presence import FaceParams
from streams.rules import RuleParams
from streams.schedule import Schedule
from streams.worker import WorkerParams

#: Values for the keys that have no default.
REQUIRED: dict[str, dict[str, Any]] = {
    "SiteConfig": {"id": "demo"},
    "CameraConfig": {"url": "rtsp://127.0.0.1:8554/gate"},
    "CasePolicyConfig": {"trigger": "on_start"},
}


def sections(base: type[Strict] = Strict) -> list[type[Strict]]:
    """Every configuration section (the whole-file models aside)."""
    found: list[type[Strict]] = []
    for sub in base.__subclasses__():
        if sub.__module__.startswith("sitewatch.config") and sub not in (Config, CentralConfig):
            found.append(sub)
        found.extend(sections(sub))
    return found


SECTIONS = sections()
LINKS = [(section, link) for section in SECTIONS for link in section.LINKS]


def _name(value: object) -> str:
    if isinstance(value, type):
        return value.__name__
    target = getattr(value, "target", None)
    return getattr(target, "__qualname__", repr(value))


def drift(section: type[Strict], link: Link[Any]) -> list[str]:
    """The library parameters that a default ``section`` sets to something else than the library."""
    instance = section(**REQUIRED.get(section.__name__, {}))
    given = link.arguments(instance)
    return [
        f"{section.__name__} -> {_name(link)}.{parameter}: {value!r} != {link.library_default(parameter)!r}"
        for key, parameter in link.keys.items()
        if link.has_default(parameter)
        for value in [given[parameter]]
        if value != link.library_default(parameter)
        or type(value) is not type(link.library_default(parameter))
    ]


def test_every_section_is_found() -> None:
    assert {s.__name__ for s in SECTIONS} >= {
        "MotionConfig",
        "SmokingConfig",
        "FaceConfig",
        "RulesConfig",
        "WorkerConfig",
        "OfficersConfig",
        "CameraConfig",
    }


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.__name__)
def test_every_key_is_linked_to_the_library_or_owned_by_the_configuration(section: type[Strict]) -> None:
    linked = [key for link in section.LINKS for key in link.keys]
    assert len(linked) == len(set(linked)), f"a key of {section.__name__} feeds two links"
    assert not set(linked) & section.OWN, "a key is both linked and owned"
    assert set(linked) | section.OWN == set(section.model_fields), (
        f"{section.__name__}: keys neither linked nor owned: "
        f"{sorted(set(section.model_fields) - set(linked) - section.OWN)}; "
        f"linked or owned but no key: {sorted((set(linked) | section.OWN) - set(section.model_fields))}"
    )


@pytest.mark.parametrize(("section", "link"), LINKS, ids=lambda v: _name(v))
def test_every_library_parameter_has_a_key_or_is_internal(section: type[Strict], link: Link[Any]) -> None:
    keyed = set(link.keys.values())
    assert len(keyed) == len(link.keys), "two keys set one parameter"
    assert not keyed & link.internal, "a parameter is both keyed and internal"
    assert keyed | link.internal == link.parameters(), (
        f"{_name(link)} parameters without a key in {section.__name__} nor listed internal: "
        f"{sorted(link.parameters() - keyed - link.internal)}; unknown: "
        f"{sorted((keyed | link.internal) - link.parameters())}"
    )


@pytest.mark.parametrize(("section", "link"), LINKS, ids=lambda v: _name(v))
def test_a_default_section_sets_the_library_defaults(section: type[Strict], link: Link[Any]) -> None:
    assert drift(section, link) == []


def test_a_default_written_twice_is_caught() -> None:
    class Drifted(Strict):  # what hand-copying the motion defaults could come to
        LINKS = (MOTION,)

        enabled: bool = True
        pixel_delta: int = 13
        min_changed: float = 0.002
        force_interval_s: int = 3

    assert drift(Drifted, MOTION) == [
        "Drifted -> MotionParams.pixel_delta: 13 != 12",
        "Drifted -> MotionParams.force_interval_s: 3 != 3.0",
    ]


def _default_config() -> Config:
    return config_from_text("site: {id: demo}\n")


def _dataclass_fields(value: object) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("built", "library"),
    [
        (lambda c: c.engine_settings(), EngineSettings),
        (lambda c: c.face_settings(), FaceSettings),
        (schedule_of, Schedule),
        (lambda c: c.motion.params(), MotionParams),
        (lambda c: c.worker.params(), WorkerParams),
        (lambda c: c.false_alarms.params(), MatchParams),
        (lambda c: FACE_TRIES.build(c.officers, **FACE_SIZE.arguments(c.face)), FaceParams),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_default_configuration_builds_the_library_defaults(built: Any, library: Any) -> None:
    assert _dataclass_fields(built(_default_config())) == _dataclass_fields(library())


def test_default_rule_timing_is_the_library_s() -> None:
    params = rule_params_of(_default_config())
    assert (params.cooldown_s, params.update_interval_s, params.min_score_gain) == (
        RuleParams().cooldown_s,
        RuleParams().update_interval_s,
        RuleParams().min_score_gain,
    )


def test_the_default_smoking_schedule_is_the_library_s() -> None:
    built, library = _default_config().smoking.scheduler(), SmokingScheduler()
    assert (built.recheck_s, built.max_per_frame) == (library.recheck_s, library.max_per_frame)


@pytest.mark.parametrize(
    "name", ["Config", "CameraConfig", "RuleConfig", "load_config", "config_from_text", "load_central_config"]
)
def test_the_package_keeps_the_names_imported_from_it(name: str) -> None:
    assert name in config_package.__all__ and callable(getattr(config_package, name))
