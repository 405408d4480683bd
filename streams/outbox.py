"""The edge's durable on-disk outbox: event updates wait in SQLite until the API has them.

Every update is stored (WAL, synchronous writes) before anything is sent; :class:`streams.sinks.HttpSink`
sends the oldest first and deletes a row only once the API answered. The outbox also remembers, in the
same transaction as each update, the latest update of every event still open. A worker that was killed
mid-event (no chance to send ``end``) leaves them there: the next start queues an ``end`` for each before
anything else (:meth:`Outbox.end_open`), so no event stays open forever.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from streams.events import EventUpdate, Phase, iso

#: Why an event a killed worker left open was ended at the next start.
RESTART_REASON = "worker restarted: the previous run stopped without ending this event"


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
