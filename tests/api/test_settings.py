"""The API's settings (pydantic settings): every variable named after its setting, a bad value named with
its variable, and settings built in code untouched by the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.core.settings import ApiSettings


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        # These two were read with a bare float(): "could not convert string to float: 'soon'".
        ("SITEWATCH_KEY_CACHE_S", "soon", "SITEWATCH_KEY_CACHE_S='soon' is not a number"),
        ("SITEWATCH_REINSPECTION_HOURS", "a day", "SITEWATCH_REINSPECTION_HOURS='a day' is not a number"),
        ("SITEWATCH_MIN_FREE_MB", "lots", "SITEWATCH_MIN_FREE_MB='lots' is not a number"),
        (
            "SITEWATCH_LARGE_UPLOADS",
            "0",
            "SITEWATCH_LARGE_UPLOADS='0': Input should be greater than or equal",
        ),
        ("SITEWATCH_MAX_UPLOAD_MB", "-1", "SITEWATCH_MAX_UPLOAD_MB='-1': Input should be greater than 0"),
        (
            "SITEWATCH_MAP_TILES",
            "https://tiles.example/",
            "SITEWATCH_MAP_TILES='https://tiles.example/' lacks",
        ),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="^" + says.replace("(", r"\(").replace("?", r"\?")):
        ApiSettings.from_env(data_dir=tmp_path)


@pytest.mark.parametrize(
    ("attribute", "raw", "value"),
    [
        ("key_cache_s", "0", 0.0),
        ("public_url", "https://sitewatch.example", "https://sitewatch.example"),
        ("large_uploads", "8", 8),
        ("s3_bucket", "evidence", "evidence"),
        ("event_silence_min", "0", 0.0),
        ("map_attribution", " © Tiles ", "© Tiles"),
    ],
)
def test_each_setting_is_read_from_the_variable_named_after_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, attribute: str, raw: str, value: object
) -> None:
    monkeypatch.setenv(f"SITEWATCH_{attribute.upper()}", raw)
    assert getattr(ApiSettings.from_env(data_dir=tmp_path), attribute) == value


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITEWATCH_ADMIN_KEY", "")
    monkeypatch.setenv("SITEWATCH_QUOTA_MB", "")
    settings = ApiSettings.from_env(data_dir=tmp_path)
    assert (settings.admin_key, settings.quota_mb) == (None, None)


def test_the_database_defaults_to_sqlite_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SITEWATCH_DATA_DIR", str(tmp_path / "elsewhere"))
    assert ApiSettings.from_env().database_url == f"sqlite:///{tmp_path / 'elsewhere' / 'sitewatch.db'}"
    assert ApiSettings.from_env(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"


def test_settings_built_in_code_ignore_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SITEWATCH_MAX_UPLOAD_MB", "5")
    assert ApiSettings(data_dir=tmp_path).max_upload_mb == 20.0
    assert ApiSettings.from_env(data_dir=tmp_path).max_upload_mb == 5.0
