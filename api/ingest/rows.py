"""The rows a batch of updates writes, computed in Python before any is written: evidence files, events
with the batch's updates folded in, notifications of the events that started or ended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.events.schemas import IngestEventIn
from api.ingest.prepare import MEDIA, Prepared


def evidence_rows(fresh: list[tuple[int, Prepared]], *, now: datetime) -> dict[str, dict[str, Any]]:
    """The evidence file rows of the fresh updates, one per content hash."""
    new_files: dict[str, dict[str, Any]] = {}
    for _, item in fresh:
        for name, (digest, size) in item.files.items():
            if digest not in new_files:
                new_files[digest] = {
                    "sha256": digest,
                    "media_type": MEDIA[name],
                    "size": size,
                    "created_at": now,
                }
    return new_files


def fold_updates(
    fresh: list[tuple[int, Prepared]], *, rows: dict[str, dict[str, Any]], now: datetime
) -> tuple[list[dict[str, Any]], list[str]]:
    """Fold each fresh update into its event's row in ``rows`` (a new row for a new event). Returns the
    notifications of the events that started or ended, and the ids of those that started."""
    notices: list[dict[str, Any]] = []
    started: list[str] = []
    for _, item in fresh:
        u = item.update
        row = rows.get(u.event_id)
        if row is None:
            row = rows[u.event_id] = _new_row(u)
        _fold(row, u, {name: digest for name, (digest, _size) in item.files.items()})
        if u.phase in ("start", "end"):
            notices.append(
                {
                    "topic": "event.started" if u.phase == "start" else "event.ended",
                    "site_id": row["site_id"],
                    "kind": row["kind"],
                    "camera_id": row["camera_id"],
                    "case_id": None,
                    "event_id": row["id"],
                    "created_at": now,
                    "routed": False,
                }
            )
        if u.phase == "start":
            started.append(u.event_id)
    return notices, started


def _new_row(update_: IngestEventIn) -> dict[str, Any]:
    return {
        "id": update_.event_id,
        "site_id": update_.site_id,
        "camera_id": update_.camera_id,
        "kind": update_.kind,
        "status": "open",
        "started_at": update_.started_at,
        "updated_at": update_.updated_at,
        "ended_at": None,
        "last_seq": -1,
        "score": 0.0,
        "people_count": 0,
        "best_box": None,
        "snapshot_sha256": None,
        "annotated_sha256": None,
        "clip_sha256": None,
        "review_status": "pending",
        "details": {},
    }


def _fold(row: dict[str, Any], update_: IngestEventIn, digests: dict[str, str]) -> None:
    """Fold an update into the event's row; an older update arriving late only fills gaps."""
    newest = update_.seq > row["last_seq"]
    if newest:
        row["last_seq"] = update_.seq
        row["updated_at"] = update_.updated_at
        row["score"] = update_.score
        row["people_count"] = max(row["people_count"] or 0, update_.people_count)
        row["best_box"] = update_.best_box
        row["details"] = {**(row["details"] or {}), **update_.details}
    if update_.phase == "end":
        row["status"] = "ended"
        row["ended_at"] = update_.ended_at or update_.updated_at
    for name, digest in digests.items():
        if newest or row[f"{name}_sha256"] is None:
            row[f"{name}_sha256"] = digest
