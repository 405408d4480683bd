"""Where events go: in-process, or over HTTP to the central API through a durable outbox.

The HTTP sink writes every update to a local SQLite outbox before anything is sent; a delivery thread
sends the oldest first, retries with capped exponential backoff, and deletes a row only once the API has
answered 2xx (or 409, already stored or refused for good). A refusal of the key (401, 403) holds the whole
queue and is retried until the key works again (reported by :meth:`HttpSink.health` and the log); only a
refusal of the update itself (another 4xx) sets that update aside. A restart resumes from the outbox.
Updates carry the edge's event id and sequence number, which the API uses to store each exactly once.

The outbox also remembers, in the same transaction as each update, the latest update of every event still
open. A worker that was killed mid-event (no chance to send ``end``) leaves them there: the next start
queues an ``end`` for each before anything else (:meth:`Outbox.end_open`), so no event stays open forever.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx

from streams.events import EventUpdate, Phase, iso

logger = logging.getLogger(__name__)

INGEST_PATH = "/api/v1/ingest/events"
HEALTH_PATH = "/api/v1/ingest/health"
SIGHTINGS_PATH = "/api/v1/ingest/sightings"
#: Why an event a killed worker left open was ended at the next start.
RESTART_REASON = "worker restarted: the previous run stopped without ending this event"


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


class Outbox:
    """A durable FIFO of serialized updates in SQLite (WAL, synchronous writes).

    Args:
        path: the database file; created with its folder when missing.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                """CREATE TABLE IF NOT EXISTS outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    snapshot BLOB,
                    annotated BLOB,
                    clip BLOB,
                    created_at REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    dead INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (event_id, seq)
                )"""
            )
            db.execute(
                """CREATE TABLE IF NOT EXISTS open_events (
                    event_id TEXT PRIMARY KEY,
                    body TEXT NOT NULL
                )"""
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def put(self, update: EventUpdate) -> None:
        """Store an update durably (a second put of the same id and seq is ignored)."""
        ev = update.evidence
        body = update.body()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT OR IGNORE INTO outbox (event_id, seq, body, snapshot, annotated, clip, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    update.event_id,
                    update.seq,
                    body,
                    ev.snapshot if ev else None,
                    ev.annotated if ev else None,
                    ev.clip if ev else None,
                    time.time(),
                ),
            )
            if update.phase is Phase.END:
                db.execute("DELETE FROM open_events WHERE event_id = ?", (update.event_id,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO open_events (event_id, body) VALUES (?, ?)",
                    (update.event_id, body),
                )
            db.execute("COMMIT")

    def open_events(self) -> list[dict[str, object]]:
        """The latest update (its JSON) of every event whose ``end`` was never put."""
        with self._connect() as db:
            return [json.loads(body) for (body,) in db.execute("SELECT body FROM open_events ORDER BY rowid")]

    def end_open(self, now: float, reason: str) -> list[str]:
        """Queue an ``end`` for every event a previous run left open (it was killed, or lost power), in one
        transaction; return their ids. ``ended_at`` is the time of the event's last update: the last the
        edge knew it to hold. Call it once at start, before the new run puts anything."""
        ended: list[str] = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            for event_id, text in db.execute(
                "SELECT event_id, body FROM open_events ORDER BY rowid"
            ).fetchall():
                last = json.loads(text)
                end = {
                    **last,
                    "seq": int(last["seq"]) + 1,
                    "phase": Phase.END.value,
                    "updated_at": iso(now),
                    "ended_at": last["updated_at"],
                    "evidence": {},
                    "details": {**(last.get("details") or {}), "reason": reason},
                }
                db.execute(
                    "INSERT OR IGNORE INTO outbox (event_id, seq, body, created_at) VALUES (?, ?, ?, ?)",
                    (event_id, end["seq"], json.dumps(end, ensure_ascii=False, separators=(",", ":")), now),
                )
                ended.append(str(event_id))
            db.execute("DELETE FROM open_events")
            db.execute("COMMIT")
        return ended

    def oldest(self) -> tuple[int, str, dict[str, bytes]] | None:
        """``(row id, JSON body, files)`` of the oldest pending update."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id, body, snapshot, annotated, clip FROM outbox WHERE dead = 0 ORDER BY id LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        files = {
            name: blob for name, blob in zip(("snapshot", "annotated", "clip"), row[2:], strict=True) if blob
        }
        return row[0], row[1], files

    def delete(self, row_id: int) -> None:
        """Forget a delivered update."""
        with self._connect() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    def bury(self, row_id: int, error: str) -> None:
        """Set aside an update the API refuses for good; it stays in the file for inspection."""
        with self._connect() as db:
            db.execute("UPDATE outbox SET dead = 1, last_error = ? WHERE id = ?", (error, row_id))

    def failed(self, row_id: int, error: str) -> None:
        """Count a failed attempt."""
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", (error, row_id)
            )

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox WHERE dead = 0").fetchone()[0])


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
