"""Per-stage timings, in the spirit of ultralytics' ``Results.speed``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulate wall-clock milliseconds per named stage.

    Example:
        >>> t = StageTimer()
        >>> with t.stage("preprocess"):
        ...     pass
        >>> list(t.ms)
        ['preprocess']
    """

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block and add it to stage ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, (time.perf_counter() - start) * 1000.0)

    def add(self, name: str, ms: float) -> None:
        """Add ``ms`` to stage ``name``."""
        self.ms[name] = self.ms.get(name, 0.0) + ms

    def merge(self, other: dict[str, float], prefix: str = "") -> None:
        """Add every stage of ``other``, optionally renamed with ``prefix``."""
        for name, ms in other.items():
            self.add(prefix + name, ms)

    @property
    def total_ms(self) -> float:
        """Sum over all stages."""
        return sum(self.ms.values())
