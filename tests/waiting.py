"""Polling for something that happens in another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    condition: Callable[[], object], timeout: float, what: str = "the condition", poll: float = 0.05
) -> float:
    """Poll ``condition`` until it is truthy; return the seconds it took.

    Raises:
        AssertionError: not within ``timeout`` seconds (the message says what was awaited).
    """
    start = time.time()
    while time.time() - start < timeout:
        if condition():
            return time.time() - start
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
