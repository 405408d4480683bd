"""The false-alarm memory from the central API to the edge: fetched at start and every ``refresh_min``
from ``GET /api/v1/sites/{site}/false-alarms`` with the edge key (the same entries come with
``GET .../config``), applied to the :class:`streams.memory.FalseAlarmMemory` the camera pipelines share."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx

from sitewatch.config import Config
from streams.memory import FalseAlarmMemory, MemoryEntry
from streams.sinks import auth_headers

logger = logging.getLogger(__name__)

Fetch = Callable[[], list[dict[str, Any]]]


def api_fetch(base_url: str, api_key: str | None, site_id: str, timeout_s: float = 10.0) -> Fetch:
    """Fetch the site's unexpired false-alarm entries with the edge key."""
    headers = auth_headers(api_key)
    url = f"{base_url.rstrip('/')}/api/v1/sites/{site_id}/false-alarms"

    def fetch() -> list[dict[str, Any]]:
        response = httpx.get(url, headers=headers, timeout=timeout_s)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries

    return fetch


class FalseAlarmSync:
    """Keeps ``memory`` fresh from ``fetch``: at :meth:`start`, then every ``refresh_s`` in a thread."""

    def __init__(self, memory: FalseAlarmMemory, fetch: Fetch, *, refresh_s: float = 60.0) -> None:
        self.memory = memory
        self.fetch = fetch
        self.refresh_s = refresh_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="false-alarm-sync", daemon=True)

    def refresh(self) -> bool:
        """Fetch the memory now; whether it worked (on failure the entries held are kept)."""
        try:
            entries = [MemoryEntry.from_json(item) for item in self.fetch()]
        except Exception as exc:  # keep what we have; the next refresh retries
            logger.warning("false-alarm memory not refreshed: %s", exc)
            return False
        self.memory.replace(entries)
        logger.info("false-alarm memory: %d entries", len(entries))
        return True

    def start(self) -> None:
        """Fetch, then refresh in the background."""
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        """Stop refreshing."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            self.refresh()


def false_alarm_sync(config: Config) -> FalseAlarmSync | None:
    """For an edge box sending to the central API: its false-alarm memory, kept fresh; ``None`` when the
    memory is off or there is no API to fetch it from."""
    settings = config.false_alarms
    if not settings.enabled or config.sink.type != "http" or not config.sink.url:
        return None
    memory = FalseAlarmMemory(settings.params())
    fetch = api_fetch(config.sink.url, config.sink.api_key, config.site.id)
    return FalseAlarmSync(memory, fetch, refresh_s=settings.refresh_min * 60.0)
