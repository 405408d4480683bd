"""configs/site.example.yaml says it writes every option with its default: the values it writes must be
the code's defaults, except the ones that describe its example site."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

import pytest
from pydantic import BaseModel

from sitewatch.config import Config, parse_config
from sitewatch.yamlpos import load_yaml_file
from tests.conftest import ROOT

EXAMPLE = ROOT / "configs" / "site.example.yaml"

#: Keys whose values in the example describe its site rather than a default.
EXAMPLE_VALUES = [
    "site.*",
    "sink.type",
    "sink.url",
    "sink.api_key",
    "case_policies.*",
    "alerts.channels.*",
    "alerts.routes",
    "cameras.*.url",
    "cameras.*.detect_url",
    "cameras.*.name",
    "cameras.*.zones",
    "cameras.yard.enabled",
]


def written(data: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of the values written in ``data`` (a mapping's keys are walked into)."""
    paths = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.extend(written(value, f"{path}.") if isinstance(value, dict) else [path])
    return paths


def value_at(config: Config, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part) if isinstance(value, BaseModel) else value[part]
    return value


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Config, Config]:
    """The example's data, the example, and a configuration of the same site and cameras otherwise
    left to its defaults."""
    monkeypatch.setenv("GATE_CAMERA_PASSWORD", "secret")
    monkeypatch.delenv("SITEWATCH_DATA_DIR", raising=False)
    doc = load_yaml_file(EXAMPLE)
    assert isinstance(doc.data, dict)
    defaults = Config.model_validate(
        {
            "site": doc.data["site"],
            "cameras": {name: {"url": camera["url"]} for name, camera in doc.data["cameras"].items()},
        }
    )
    return doc.data, parse_config(doc), defaults


def test_every_value_the_example_writes_is_the_default(
    example: tuple[dict[str, Any], Config, Config],
) -> None:
    data, config, defaults = example
    paths = [p for p in written(data) if not any(fnmatch(p, pattern) for pattern in EXAMPLE_VALUES)]
    assert len(paths) > 60, "the example writes fewer options than expected"
    differ = {
        path: (value_at(config, path), value_at(defaults, path))
        for path in paths
        if value_at(config, path) != value_at(defaults, path)
    }
    assert differ == {}, "example value != default (fix the example, or list the key in EXAMPLE_VALUES)"


def test_the_example_writes_every_section(example: tuple[dict[str, Any], Config, Config]) -> None:
    data, _, _ = example
    assert set(data) == set(Config.model_fields)
