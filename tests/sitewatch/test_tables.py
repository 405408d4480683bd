"""Command-line tables stay aligned with Chinese text (regression: they counted characters, not columns)."""

from __future__ import annotations

import pytest

from sitewatch.tables import format_table, width


@pytest.mark.parametrize(
    "rows",
    [
        [["违规", 2], ["处理时长中位数（小时）", 3.5]],
        [["violations", 2], ["误报率", 0.25]],
        [["a", 1], ["b", 22]],
    ],
)
def test_second_column_lines_up(rows: list[list[object]]) -> None:
    lines = format_table(["figure", "value"], rows).splitlines()
    ends = {width(line) for line in lines}
    assert len(ends) == 1, lines  # every line, numbers right-aligned, ends in the same column
