"""Cameras that went offline: :class:`OfflineWatch` raises ``camera_offline`` for a camera offline longer
than its delay, and ends it when the camera is back (or when the worker stops)."""

from __future__ import annotations

from streams.events import EventKind, EventUpdate, Phase


class OfflineWatch:
    """``camera_offline`` for one camera: starts after ``delay_s`` offline, ends when it is back."""

    def __init__(self, site_id: str, camera_id: str, delay_s: float) -> None:
        self.site_id = site_id
        self.camera_id = camera_id
        self.delay_s = delay_s
        self._open: EventUpdate | None = None

    def close(self, now: float, reason: str) -> list[EventUpdate]:
        """End an open ``camera_offline`` (the worker stops): whether the camera is back, nobody watches."""
        if self._open is None:
            return []
        end = self._open.next(Phase.END, now, ended_at=now, details={**self._open.details, "reason": reason})
        self._open = None
        return [end]

    def tick(
        self, now: float, online: bool, offline_since: float | None, error: str | None
    ) -> list[EventUpdate]:
        """Check the camera's health and return the updates to send."""
        if online or offline_since is None:
            if self._open is None:
                return []
            end = self._open.next(Phase.END, now, ended_at=now)
            self._open = None
            return [end]
        if self._open is not None or now - offline_since < self.delay_s:
            return []
        self._open = EventUpdate.begin(
            EventKind.CAMERA_OFFLINE,
            self.site_id,
            self.camera_id,
            started_at=offline_since,
            now=now,
            details={"error": error},
        )
        return [self._open]
