"""Benchmark figures, reported one way: every benchmark's ``to_json`` goes through :func:`figures`.

A figure keeps :data:`SIGNIFICANT` significant digits whatever its size, so a 0.0123 ms stage and a
1234 frames/s rate are both shown as precisely as a measurement deserves, and no small figure rounds to
zero. Lives at the bottom layer (``detector``, with the other measuring code) so that every package's
benchmark may import it.

Example:
    >>> figures({"engine_ms": 12.34567, "fps": 81.003, "runs": 100, "stages_ms": {"nms": 0.0123456}})
    {'engine_ms': 12.35, 'fps': 81.0, 'runs': 100, 'stages_ms': {'nms': 0.01235}}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

#: Significant digits kept of every float figure.
SIGNIFICANT = 4


def rounded(value: float, digits: int = SIGNIFICANT) -> float:
    """``value`` to ``digits`` significant digits; zero, infinities and NaN as they are.

    Example:
        >>> rounded(1234.567), rounded(0.00123456), rounded(-2.71828)
        (1235.0, 0.001235, -2.718)
    """
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def figures(result: object) -> dict[str, object]:
    """A benchmark result as a JSON-ready dict, every float in it :func:`rounded`.

    Args:
        result: a dataclass instance (its fields) or a mapping; dicts and lists inside are rounded too.
            Integers, text and ``None`` stay as they are.
    """
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        items = dataclasses.asdict(result)
    elif isinstance(result, Mapping):
        items = dict(result)
    else:
        raise TypeError(f"figures() takes a dataclass instance or a mapping, not {type(result).__name__}")
    return {str(key): _round_all(value) for key, value in items.items()}


def _round_all(value: object) -> object:
    if isinstance(value, float):
        return rounded(value)
    if isinstance(value, Mapping):
        return {key: _round_all(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round_all(v) for v in value]
    return value
