"""Bounded queues that keep the newest items: a full queue drops its oldest item instead of blocking."""

from __future__ import annotations

import queue
from typing import TypeVar

T = TypeVar("T")


def put_dropping_oldest(q: queue.Queue[T], item: T) -> T | None:
    """Put ``item`` without blocking; when ``q`` is full, drop its oldest item first.

    Returns:
        The dropped item, or ``None`` when nothing had to go.

    Example:
        >>> q: queue.Queue[int] = queue.Queue(2)
        >>> put_dropping_oldest(q, 1), put_dropping_oldest(q, 2), put_dropping_oldest(q, 3)
        (None, None, 1)
    """
    dropped: T | None = None
    while True:
        try:
            q.put_nowait(item)
            return dropped
        except queue.Full:
            try:
                dropped = q.get_nowait()
            except queue.Empty:  # another thread emptied it meanwhile: try again
                continue
