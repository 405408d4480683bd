"""Plain-text tables for the command line."""

from __future__ import annotations

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
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: object, digits: int) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if value is None:
        return "-"
    return str(value)
