"""Plain-text tables for the command line."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 2) -> str:
    """Align ``rows`` under ``headers``; numbers right-aligned with ``digits`` decimals, text left-aligned.

    Example:
        >>> print(format_table(["stage", "ms"], [["inference", 12.5], ["nms", 0.25]]))
        stage         ms
        ---------  -----
        inference  12.50
        nms         0.25
    """
    cells = [[_cell(v, digits) for v in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            " " * (w - width(v)) + v if num else v + " " * (w - width(v))
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two.

    Example:
        >>> width("违规"), width("abc")
        (4, 3)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(value: object, digits: int) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if value is None:
        return "-"
    return str(value)
