from __future__ import annotations

from pathlib import Path

import pytest

from sitewatch.config import config_from_text, load_config
from sitewatch.yamlpos import ConfigError, load_yaml
from tests.conftest import ROOT

MINIMAL = """\
site: {id: demo, timezone: Asia/Shanghai}
cameras:
  gate: {url: "rtsp://127.0.0.1:8554/gate"}
"""


def test_the_minimal_configuration_defaults_everything_else() -> None:
    config = config_from_text(MINIMAL)
    assert config.cameras["gate"].detect_fps == 5.0
    assert config.detect.conf == 0.35 and config.models.ppe == "ppe"


@pytest.mark.parametrize("name", ["demo.yaml", "site.example.yaml", "gpu-server.example.yaml"])
def test_shipped_configurations_are_valid(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_CAMERA_PASSWORD", "secret")
    config = load_config(ROOT / "configs" / name)
    assert config.cameras, f"{name} watches no camera"
    assert config.engine_settings().ppe.conf == config.detect.conf
    for camera in config.cameras.values():
        if "://" not in camera.url and not Path(camera.url).is_absolute() and not camera.url.isdigit():
            assert (ROOT / camera.url).is_file(), camera.url  # a file of the repository: the demo's video


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("site:\n  id: demo\n  timezon: UTC\n", ":3: site.timezon: unknown key"),
        (  # a key of an earlier release says what replaced it
            "site: {id: demo}\nsmoking:\n  recheck_frames: 15\n",
            ":3: smoking.recheck_frames: replaced by smoking.recheck_s, in seconds",
        ),
        (
            "site:\n  id: demo\n  timezone: Mars/Olympus\n",
            ":3: site.timezone: Value error, unknown time zone",
        ),
        ("site: {id: demo}\ndetect:\n  conf: 1.5\n", ":3: detect.conf: Input should be less than 1"),
        (
            "site: {id: demo}\nalerts:\n  channels:\n    cs: {type: webhook, url: 'http://x'}\n",
            ":4: alerts.channels.cs: Value error, a webhook channel needs a secret",
        ),
        (
            "site: {id: demo}\nalerts:\n  routes:\n    - channels: [nowhere]\n",
            ":2: alerts: Value error, routes[0] names unknown channels: nowhere",
        ),
        (
            "site: {id: demo}\nalerts:\n  channels:\n    s: {type: speaker}\n",
            ":4: alerts.channels.s: Value error, a speaker channel needs exactly one of url and command",
        ),
        (
            "site: {id: demo}\ncase_policies:\n  no_hat: {trigger: on_start}\n",
            ":3: case_policies.no_hat",
        ),
        (
            "site: {id: demo}\ncameras:\n  gate:\n    url: x\n    detect_fps: 0\n",
            ":5: cameras.gate.detect_fps",
        ),
        ("site: {id: demo}\ncameras:\n  gate: {}\n", ":3: cameras.gate.url: Field required"),
        ("site: {id: 'bad id!'}\n", ":1: site.id: String should match pattern"),
        ("detect: {conf: 0.3}\n", ":1: site: Field required"),
        ("site: {id: demo}\nassociation:\n  head_band: [0.5, 0.1]\n", ":3: association.head_band"),
        ("site: {id: demo}\nschedule:\n  days: []\n", ":3: schedule.days: Value error, no working day"),
        (
            "site: {id: demo}\nschedule: {start: '08:00', end: '08:00'}\n",
            ":2: schedule: Value error, start and end are both 08:00",
        ),
        ("site: {id: demo}\nsite: {id: other}\n", ":2: key 'site' appears twice"),
        ("site: {id: demo\n", ":2: not valid YAML"),
        ("- a\n- b\n", ":1: the configuration must be a mapping"),
    ],
)
def test_errors_name_the_key_and_line(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "site.yaml")
    assert f"site.yaml{where}" in str(info.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_text("site: {id: demo}\ndetect: {conf: 2, iou: 0}\n", "s.yaml")
    assert "detect.conf" in str(info.value) and "detect.iou" in str(info.value)


@pytest.mark.parametrize(
    ("text", "env", "value"),
    [
        ("url: ${CAM_URL}", {"CAM_URL": "rtsp://u:p@cam/1"}, "rtsp://u:p@cam/1"),
        ("url: rtsp://admin:${PASS}@cam/1", {"PASS": "s3"}, "rtsp://admin:s3@cam/1"),
        ("url: ${MISSING:-fallback}", {}, "fallback"),
        ("url: ${FPS}", {"FPS": "7.5"}, 7.5),  # a whole-value placeholder takes YAML's type
        ("url: '${FPS}'", {"FPS": "7.5"}, "7.5"),  # unless quoted
    ],
)
def test_environment_placeholders(text: str, env: dict[str, str], value: object) -> None:
    assert load_yaml(text, env=env).data["url"] == value


def test_an_unset_variable_names_key_and_line() -> None:
    with pytest.raises(
        ConfigError, match=r"c.yaml:3: cameras.gate.url: environment variable CAM_URL is not set"
    ):
        load_yaml("site: {id: x}\ncameras:\n  gate: {url: '${CAM_URL}'}\n", "c.yaml", env={})


def test_a_secret_never_appears_in_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A secret put in the wrong field is rejected without being echoed (pydantic's input is not shown).
    monkeypatch.setenv("CAM_SECRET", "hunter2")
    with pytest.raises(ConfigError) as info:
        config_from_text("site: {id: x}\ncameras:\n  gate: {url: x, detect_fps: '${CAM_SECRET}'}\n", "c.yaml")
    assert "cameras.gate.detect_fps" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_engine_settings_follow_the_file() -> None:
    config = config_from_text(
        "site: {id: x}\ndetect: {conf: 0.4}\nmodels: {smoking: null}\nruntime: {intra_op_threads: 1}\n"
    )
    settings = config.engine_settings()
    assert settings.ppe.conf == 0.4 and settings.smoking_model is None
    assert settings.backend.intra_op_threads == 1


@pytest.mark.parametrize(
    ("smoking", "expected"),
    [
        ("{armed: always}", (2, 3, 0.0)),  # regression: it fell back to the generic 3 of 5 for 2 s
        ("{enabled: true}", (2, 3, 0.0)),
        ("{persistence: {k: 3, n: 4, min_duration_s: 5}}", (3, 4, 5.0)),
    ],
)
def test_a_smoking_rule_keeps_its_own_persistence(smoking: str, expected: tuple[int, int, float]) -> None:
    config = config_from_text(
        f"site: {{id: s}}\nrules:\n  smoking: {smoking}\n  no_helmet: {{armed: always}}\n"
    )
    persistence = config.rules.smoking.persistence
    assert (persistence.k, persistence.n, persistence.min_duration_s) == expected
    assert (config.rules.no_helmet.persistence.k, config.rules.no_helmet.persistence.n) == (3, 5)
