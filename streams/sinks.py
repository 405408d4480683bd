"""Where events go: in-process (:class:`MemorySink`), or over HTTP to the central API (:class:`HttpSink`)
through the durable outbox of :mod:`streams.outbox`.

The HTTP sink writes every update to a local SQLite outbox before anything is sent; a delivery thread
sends the oldest first, retries with capped exponential backoff, and deletes a row only once the API has
answered 2xx (or 409, already stored or refused for good). A refusal of the key (401, 403) holds the whole
queue and is retried until the key works again (reported by :meth:`HttpSink.health` and the log); only a
refusal of the update itself (another 4xx) sets that update aside. A restart resumes from the outbox.
Updates carry the edge's event id and sequence number, which the API uses to store each exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from streams.events import EventUpdate
from streams.outbox import RESTART_REASON, Outbox

logger = logging.getLogger(__name__)

INGEST_PATH = "/api/v1/ingest/events"
HEALTH_PATH = "/api/v1/ingest/health"
SIGHTINGS_PATH = "/api/v1/ingest/sightings"


def auth_headers(api_key: str | None) -> dict[str, str]:
    """``Authorization: Bearer <key>`` for the central API; nothing without a key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def json_poster(
    base_url: str, api_key: str | None, path: str, timeout_s: float = 10.0
) -> Callable[[object], None]:
    """A function that POSTs a JSON body to ``path`` of the central API and raises on an error answer
    (camera health, officer sightings: reports that the next one replaces or a caller retries)."""
    url = base_url.rstrip("/") + path
    headers = auth_headers(api_key)

    def post(body: object) -> None:
        httpx.post(url, json=body, headers=headers, timeout=timeout_s).raise_for_status()

    return post


class Sink(Protocol):
    """Receives event updates. ``emit`` must not block the video path for long."""

    def emit(self, update: EventUpdate) -> None:
        """Take one update."""
        ...

    def close(self) -> None:
        """Flush what can be flushed and stop."""
        ...


class MemorySink:
    """Keeps updates in memory and optionally calls back: the in-process sink of ``sitewatch run``.

    Example:
        >>> sink = MemorySink()
        >>> len(sink.updates)
        0
    """

    def __init__(self, callback: Callable[[EventUpdate], None] | None = None) -> None:
        self.updates: list[EventUpdate] = []
        self.emitted_at: list[float] = []
        self._callback = callback
        self._lock = threading.Lock()

    def emit(self, update: EventUpdate) -> None:
        """Record the update (and when it left)."""
        with self._lock:
            self.updates.append(update)
            self.emitted_at.append(time.time())
        if self._callback is not None:
            self._callback(update)

    def close(self) -> None:
        """Nothing to flush."""


class HttpSink:
    """Sends updates to the central API from a durable :class:`Outbox`.

    Args:
        base_url: the API, e.g. ``http://central:8000``.
        api_key: the edge box's key, sent as ``Authorization: Bearer``.
        outbox: where updates wait.
        backoff_initial_s: first wait after a failure.
        backoff_max_s: cap of the exponential backoff.
        timeout_s: per request.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        outbox: Outbox,
        *,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + INGEST_PATH
        self.outbox = outbox
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._client = httpx.Client(timeout=timeout_s, headers=auth_headers(api_key))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.delivered = 0
        self.failures = 0
        #: Why the API refuses the edge's key, while it does (``None`` once an update goes through again).
        self.auth_error: str | None = None
        self.auth_failing_since: float | None = None
        ended = outbox.end_open(time.time(), RESTART_REASON)
        if ended:
            logger.warning(
                "ending %d event(s) left open by the previous run: %s", len(ended), ", ".join(ended)
            )
        self._thread = threading.Thread(target=self._run, name="http-sink", daemon=True)
        self._thread.start()

    def emit(self, update: EventUpdate) -> None:
        """Store the update in the outbox and wake the sender."""
        self.outbox.put(update)
        logger.info(
            "event update %s/%d (%s %s) queued",
            update.event_id,
            update.seq,
            update.kind.value,
            update.phase.value,
        )
        self._wake.set()

    def close(self, flush_s: float = 5.0) -> None:
        """Send what is waiting for up to ``flush_s`` (the ends a clean stop made), then stop sending; what
        is left stays in the outbox for the next start."""
        deadline = time.monotonic() + flush_s
        self._wake.set()
        while len(self.outbox) and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=15)
        self._client.close()

    def _send(self, body: str, files: dict[str, bytes]) -> None:
        parts: dict[str, tuple[str | None, bytes, str]] = {"event": (None, body.encode(), "application/json")}
        for name, blob in files.items():
            parts[name] = (
                f"{name}.{'mp4' if name == 'clip' else 'jpg'}",
                blob,
                "video/mp4" if name == "clip" else "image/jpeg",
            )
        response = self._client.post(self.url, files=parts)
        if response.status_code == 409 or response.is_success:
            if response.status_code == 409:
                logger.warning("the API did not store an event update: %s", response.text[:200])
            return
        if response.status_code in (401, 403):
            raise AuthRefusedError(f"HTTP {response.status_code}: {response.text[:200]}")
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise PermanentError(f"HTTP {response.status_code}: {response.text[:200]}")
        raise httpx.HTTPStatusError(
            f"HTTP {response.status_code}", request=response.request, response=response
        )

    def health(self) -> dict[str, object]:
        """The sender's state: updates waiting, delivered and failed attempts, and, while the API refuses
        the key, why and since when (the queue is held meanwhile)."""
        return {
            "pending": len(self.outbox),
            "delivered": self.delivered,
            "failures": self.failures,
            "auth_error": self.auth_error,
            "auth_failing_since": self.auth_failing_since,
        }

    def _run(self) -> None:
        delay = self.backoff_initial_s
        while not self._stop.is_set():
            item = self.outbox.oldest()
            if item is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            row_id, body, files = item
            try:
                self._send(body, files)
            except AuthRefusedError as exc:
                # Not a verdict on the update: the key is wrong, revoked or not yet allowed. Hold the queue
                # (every update behind would be refused alike) and try again until the key works.
                self.failures += 1
                self.outbox.failed(row_id, str(exc))
                if self.auth_error is None:
                    self.auth_failing_since = time.time()
                    logger.error("the API refuses this edge's key (%s): holding the updates", exc)
                else:
                    logger.warning("the API still refuses this edge's key (%s); again in %.1f s", exc, delay)
                self.auth_error = str(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            except PermanentError as exc:
                # The API refuses this update for good: set it aside (kept in the file), loudly, so that
                # it does not block the ones behind it.
                logger.error("event update refused by the API, set aside in the outbox: %s", exc)
                self.outbox.bury(row_id, str(exc))
                continue
            except httpx.HTTPError as exc:
                self.failures += 1
                self.outbox.failed(row_id, str(exc))
                logger.warning("event delivery failed (%s); retrying in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            self.outbox.delete(row_id)
            self.delivered += 1
            delay = self.backoff_initial_s
            if self.auth_error is not None:
                logger.info("the API accepts this edge's key again; sending the held updates")
                self.auth_error = self.auth_failing_since = None


class PermanentError(RuntimeError):
    """The API answered with a client error about the update that a retry will not fix."""


class AuthRefusedError(RuntimeError):
    """The API refused the edge's key (401, 403): a matter of the key, not of the update."""
