"""``sitewatch train``'s extra ultralytics settings."""

from __future__ import annotations

import argparse

import pytest

from sitewatch.cli.training import _train_settings


@pytest.mark.parametrize(
    ("hours", "items", "expected"),
    [
        (None, None, None),
        (0.5, None, {"time": 0.5, "cache": "ram"}),
        (
            None,
            ["optimizer=SGD", "lr0=0.002", "close_mosaic=2"],
            {"optimizer": "SGD", "lr0": 0.002, "close_mosaic": 2},
        ),
        (None, ["lr0=1e-3"], {"lr0": 0.001}),
    ],
)
def test_extra_settings_are_typed(hours: float | None, items: list[str] | None, expected: object) -> None:
    assert _train_settings(argparse.Namespace(hours=hours, set=items)) == expected


@pytest.mark.parametrize("item", ["lr0", "=3"])
def test_a_setting_without_a_value_is_refused(item: str) -> None:
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        _train_settings(argparse.Namespace(hours=None, set=[item]))
