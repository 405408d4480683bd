"""The edge's officer-gallery sync with the API: the gallery comes from the API (embeddings only,
refreshed as supervisors enrol or delete officers) and sightings go back to it for the presence timeline."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import numpy as np

from detector.face_gallery import Gallery
from streams.queues import put_dropping_oldest
from streams.sinks import auth_headers

logger = logging.getLogger(__name__)

Fetch = Callable[[], dict[str, list[list[float]]]]
Send = Callable[[dict[str, object]], None]


def apply_gallery(gallery: Gallery, officers: dict[str, list[list[float]]]) -> None:
    """Replace the gallery's identities at once (matching threads keep the dictionary they hold)."""
    identities = {}
    for name, rows in officers.items():
        if not rows:
            continue
        matrix = np.asarray(rows, np.float32)
        identities[name] = matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12)
    gallery.identities = identities


def api_fetch(base_url: str, api_key: str | None, site_id: str, timeout_s: float = 10.0) -> Fetch:
    """Fetch the site's gallery from ``GET /api/v1/sites/{site}/gallery`` with the edge key."""
    headers = auth_headers(api_key)
    url = f"{base_url.rstrip('/')}/api/v1/sites/{site_id}/gallery"

    def fetch() -> dict[str, list[list[float]]]:
        response = httpx.get(url, headers=headers, timeout=timeout_s)
        response.raise_for_status()
        officers: dict[str, list[list[float]]] = response.json()["officers"]
        return officers

    return fetch


class OfficerSync:
    """Keeps ``gallery`` fresh from ``fetch`` and forwards sightings to ``send``, in one background thread.

    Sightings wait in a bounded queue (the oldest are dropped when it is full, with a warning) and are
    retried while the API is unreachable; the gallery is fetched at start and every ``refresh_s``.
    """

    def __init__(
        self,
        site_id: str,
        gallery: Gallery,
        fetch: Fetch,
        send: Send,
        *,
        refresh_s: float = 300.0,
        retry_s: float = 5.0,
        capacity: int = 1000,
    ) -> None:
        self.site_id = site_id
        self.gallery = gallery
        self.fetch = fetch
        self.send = send
        self.refresh_s = refresh_s
        self.retry_s = retry_s
        self._queue: queue.Queue[dict[str, object]] = queue.Queue(capacity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="officer-sync", daemon=True)
        self.sent = 0
        self.dropped = 0

    def refresh(self) -> bool:
        """Fetch the gallery now; whether it worked."""
        try:
            apply_gallery(self.gallery, self.fetch())
            return True
        except Exception as exc:  # keep the old gallery; the next refresh retries
            logger.warning("officer gallery not refreshed: %s", exc)
            return False

    def sighting(self, at: float, officer: str, camera_id: str) -> None:
        """Queue a sighting (called from the pipeline: never blocks)."""
        item: dict[str, object] = {
            "site_id": self.site_id,
            "officer": officer,
            "camera_id": camera_id,
            "at": datetime.fromtimestamp(at, UTC).isoformat(),
        }
        if put_dropping_oldest(self._queue, item) is not None:
            self.dropped += 1
            logger.warning("sighting queue full: dropped the oldest sighting")

    def start(self) -> None:
        """Fetch the gallery, then run."""
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        """Stop after sending what is queued; if the API does not answer, the rest is dropped (sightings
        only extend the presence timeline: the officer_absent events travel through the sink's outbox)."""
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        next_refresh = time.monotonic() + self.refresh_s
        pending: dict[str, object] | None = None
        while not (self._stop.is_set() and pending is None and self._queue.empty()):
            if pending is None:
                with contextlib.suppress(queue.Empty):
                    pending = self._queue.get(timeout=1.0)
            if pending is not None:
                try:
                    self.send(pending)
                    self.sent += 1
                    pending = None
                except Exception as exc:  # kept and retried; the API may be restarting
                    logger.warning("sighting not delivered (%s); retrying in %.0f s", exc, self.retry_s)
                    if self._stop.wait(self.retry_s):
                        return  # stopping: what is left is lost with the process, as said above
            if time.monotonic() >= next_refresh:
                next_refresh = time.monotonic() + self.refresh_s
                self.refresh()
