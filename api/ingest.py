"""Storing event updates from edge boxes, exactly once per (event id, seq).

Updates are stored in two steps: :func:`prepare` checks and writes an update's files (for many updates at
once), then :func:`store_prepared` writes any number of prepared updates in one transaction with a handful
of set-based statements, so that the cost of a commit (a disk flush) and of each statement is shared by all
the updates that arrived together (see :mod:`api.group_commit`). :func:`ingest_update` does both for one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Insert,
    bindparam,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.arming import disarmed
from api.cases import default_policy, maybe_open_case, recurrence
from api.models import Case, CasePolicy, Event, EvidenceFile, IngestedUpdate, Notification
from api.schemas.events import IngestEventIn, IngestResult
from api.sites import ensure_site
from api.storage import EvidenceStore, StagedFile

MEDIA = {"snapshot": "image/jpeg", "annotated": "image/jpeg", "clip": "video/mp4"}

#: Event columns an update may change after the event was created.
_MUTABLE = (
    "last_seq",
    "updated_at",
    "score",
    "people_count",
    "best_box",
    "details",
    "status",
    "ended_at",
    "snapshot_sha256",
    "annotated_sha256",
    "clip_sha256",
)


# The batch's look-ups, built once: building a statement (and its cache key) costs more CPU than running it.
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_SITES: BindParameter[str] = bindparam("sites", expanding=True)
#: (event id, seq) already stored for the batch's events.
_SEEN = select(IngestedUpdate.event_id, IngestedUpdate.seq).where(IngestedUpdate.event_id.in_(_IDS))
#: The batch's stored events, locked (PostgreSQL; on SQLite api.db.writer_lock lets one writer in at a
#: time) so that two replicas folding updates into the same event do not overwrite each other; in id
#: order, so that they cannot deadlock.
_EVENTS = (
    select(*(Event.__table__.c[name] for name in ("id", "site_id", "camera_id", "kind", *_MUTABLE)))
    .where(Event.id.in_(_IDS))
    .order_by(Event.id)
    .with_for_update()
)
#: Everything case work at an event's start depends on, for the batch's sites, in one round trip:
#: ("reinspection", site, camera, kind) for each case under re-inspection, and (trigger, site, None, kind)
#: for each case policy a site has set.
_CASE_WORK: CompoundSelect[str, str, str | None, str] = union_all(
    select(literal("reinspection"), Case.site_id, Case.camera_id, Case.kind).where(
        Case.status == "reinspection", Case.site_id.in_(_SITES)
    ),
    select(CasePolicy.trigger, CasePolicy.site_id, null(), CasePolicy.kind).where(
        CasePolicy.site_id.in_(_SITES)
    ),
)

_INSERT_UPDATES = insert(IngestedUpdate)
_INSERT_EVENTS = insert(Event)
_INSERT_NOTIFICATIONS = insert(Notification)
#: Evidence rows, by dialect: a file already stored (the same picture sent before) keeps its row. SQLite and
#: PostgreSQL spell ``ON CONFLICT DO NOTHING`` alike, through two constructors.
_NEW_FILES: dict[str, Insert] = {
    "sqlite": sqlite_insert(EvidenceFile).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(EvidenceFile).on_conflict_do_nothing(),
}


class IngestError(ValueError):
    """The update cannot be stored as sent; the message says why (answered with 422)."""


class EventConflictError(IngestError):
    """The update names an event stored for another site (answered with 409): an edge box may only add to
    the events of the site it reports for."""


@dataclass(frozen=True, slots=True)
class Submission:
    """One update as received: the parsed ``event`` part, its files by part name, and who sent it."""

    update: IngestEventIn
    files: dict[str, bytes] = field(default_factory=dict)
    actor: str = "edge"


@dataclass(frozen=True, slots=True)
class Prepared:
    """An update whose files are checked and stored: what its transaction needs of it (no file bytes).

    Attributes:
        update: the update.
        files: for each part name, the file's SHA-256 and size.
        actor: who sent it.
        staged: the files, written but not in place: promoted by the transaction that stores the update,
            discarded (:meth:`discard`) if it is not stored.
    """

    update: IngestEventIn
    files: dict[str, tuple[str, int]]
    actor: str
    staged: tuple[StagedFile, ...] = ()

    def discard(self) -> None:
        """Drop the staged files that were not promoted."""
        for staged in self.staged:
            staged.discard()


def check_file(name: str, data: bytes) -> None:
    """Refuse a part that is not what its name says.

    Raises:
        IngestError: empty, not a JPEG that decodes (``snapshot``, ``annotated``) or not an MP4 (``clip``).
    """
    if not data:
        raise IngestError(f"part '{name}' is empty")
    if MEDIA[name] == "image/jpeg" and (
        not data.startswith(b"\xff\xd8")
        or cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8) is None
    ):
        raise IngestError(f"part '{name}' is not a JPEG image")
    if MEDIA[name] == "video/mp4" and data[4:8] != b"ftyp":
        raise IngestError(f"part '{name}' is not an MP4 video")


def digests_of(submission: Submission) -> dict[str, str]:
    """The SHA-256 of each file, checked against the hashes the update announces.

    Raises:
        IngestError: a file is malformed, or its hash differs from the announced one.
    """
    digests: dict[str, str] = {}
    for name, data in submission.files.items():
        check_file(name, data)
        announced = submission.update.evidence.get(f"{name}_sha256")
        actual = hashlib.sha256(data).hexdigest()
        if announced is not None and announced != actual:
            raise IngestError(
                f"part '{name}' has sha256 {actual[:12]}…, the event announces {announced[:12]}…"
            )
        digests[name] = actual
    return digests


def prepare(submission: Submission, *, store: EvidenceStore) -> Prepared:
    """Check an update's files and stage them in ``store`` (written, but not in place: the transaction that
    stores the update puts them in place just before it commits, so that no committed event lacks its
    evidence and no file of an update not stored stays). Safe to run for many updates at once.

    Raises:
        IngestError: a file is malformed, or its hash differs from the announced one.
        OSError: a file could not be written (nothing of the update stays staged).
    """
    digests = digests_of(submission)
    staged: list[StagedFile] = []
    try:
        for name, digest in digests.items():
            staged.append(store.stage(submission.files[name], sha256=digest))
    except BaseException:
        for file in staged:
            file.discard()
        raise
    files = {name: (digest, len(submission.files[name])) for name, digest in digests.items()}
    return Prepared(submission.update, files, submission.actor, tuple(staged))


def ingest_update(
    session: Session,
    *,
    update: IngestEventIn,
    files: dict[str, bytes],
    store: EvidenceStore,
    actor: str = "edge",
) -> IngestResult:
    """Store one update and its evidence; a repeat of an accepted (event id, seq) changes nothing.

    Evidence hashes announced in the update must match the files sent with it.

    Raises:
        IngestError: a file is malformed, or its hash differs from the announced one.
    """
    prepared = prepare(Submission(update, files, actor), store=store)
    try:
        (result,) = store_prepared(session, items=[prepared])
    finally:
        prepared.discard()
    if isinstance(result, IngestError):
        raise result
    return result


def store_prepared(session: Session, *, items: Sequence[Prepared]) -> list[IngestResult | IngestError]:
    """Store prepared updates in one transaction (commits); the answer for each, in the order given.

    An update whose (event id, seq) is already stored, or appears earlier in the batch, is a ``duplicate``.
    A violation of an event not stored yet that starts while its site's project is not active is
    ``disarmed``: acknowledged, not stored (:mod:`api.arming`).
    An update naming an event of another site than its own is refused (its answer is an
    :class:`EventConflictError`) and the others are stored. The staged files of the updates stored are
    promoted, those of the others discarded; on an error nothing is discarded (the caller may try again).

    Raises:
        IngestError: concurrent writers kept conflicting with the batch; nothing of it is stored.
    """
    if not items:
        return []
    for _attempt in range(3):
        try:
            stored, refused = _write(session, items)
            break
        except IntegrityError:
            # A concurrent transaction (another replica, or a retry racing the original) wrote a row this
            # batch wanted too: the same update (then it is a duplicate, seen on the next attempt), or the
            # same site, event or file from another update (then write on top of it).
            session.rollback()
    else:
        raise IngestError("the batch kept conflicting with concurrent writes; retry")
    for index, item in enumerate(items):
        if index not in stored:
            item.discard()
    return [
        refused.get(index)
        or IngestResult(
            status="stored" if index in stored else "duplicate",
            event_id=item.update.event_id,
            seq=item.update.seq,
        )
        for index, item in enumerate(items)
    ]


def _write(
    session: Session, items: Sequence[Prepared]
) -> tuple[set[int], dict[int, IngestError | IngestResult]]:
    """One attempt at the batch's transaction; commits. Returns the indexes of the updates stored, and the
    answers of the others but duplicates: refusals of those naming an event of another site, and the
    disarmed."""
    now = datetime.now(UTC)
    # Core statements on the session's connection: the ORM's bookkeeping would cost more than the rows.
    connection = session.connection()
    event_ids = sorted({item.update.event_id for item in items})
    seen: set[tuple[str, int]] = {(e, seq) for e, seq in connection.execute(_SEEN, {"ids": event_ids})}
    rows = {row["id"]: dict(row) for row in connection.execute(_EVENTS, {"ids": event_ids}).mappings()}
    existing = set(rows)
    # The site each event belongs to: the stored event's, else the first update's of this batch.
    owners = {event_id: row["site_id"] for event_id, row in rows.items()}
    fresh: list[tuple[int, Prepared]] = []
    refused: dict[int, IngestError | IngestResult] = {}
    for index, item in enumerate(items):
        u = item.update
        owner = owners.setdefault(u.event_id, u.site_id)
        if owner != u.site_id:  # checked before all else: a repeat must not tell another site's seqs either
            refused[index] = EventConflictError(
                f"event {u.event_id} belongs to another site than {u.site_id}; choose a new event id"
            )
            continue
        key = (u.event_id, u.seq)
        if key not in seen:
            seen.add(key)  # a second copy in this batch is a duplicate of the first
            fresh.append((index, item))
    new = ((index, item.update) for index, item in fresh if item.update.event_id not in rows)
    if off := disarmed(session, updates=new):
        fresh = [(index, item) for index, item in fresh if index not in off]
        for index in off:
            u = items[index].update
            refused[index] = IngestResult(status="disarmed", event_id=u.event_id, seq=u.seq)
    if not fresh:
        session.rollback()
        return set(), refused

    for site_id in sorted({item.update.site_id for _, item in fresh}):
        ensure_site(session, site_id=site_id)
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

    if new_files:  # a file already stored (the same picture sent before) keeps its row
        if (insert_files := _NEW_FILES.get(connection.dialect.name)) is None:
            raise NotImplementedError(f"ingest supports SQLite and PostgreSQL, not {connection.dialect.name}")
        connection.execute(insert_files, list(new_files.values()))
    connection.execute(
        _INSERT_UPDATES,
        [
            {
                "event_id": item.update.event_id,
                "seq": item.update.seq,
                "phase": item.update.phase,
                "received_at": now,
                "body": item.update.model_dump(mode="json"),
            }
            for _, item in fresh
        ],
    )
    touched = {item.update.event_id for _, item in fresh}
    if created := [rows[i] for i in touched - existing]:
        connection.execute(_INSERT_EVENTS, created)
    if changed := [{k: rows[i][k] for k in ("id", *_MUTABLE)} for i in touched & existing]:
        session.execute(update(Event), changed)  # the ORM's bulk UPDATE by primary key
    if notices:
        connection.execute(_INSERT_NOTIFICATIONS, notices)
    actors = {item.update.event_id: item.actor for _, item in fresh}
    _open_cases(session, started=started, actors=actors, rows=rows)
    _promote([file for _, item in fresh for file in item.staged])
    session.commit()
    return {index for index, _ in fresh}, refused


def _promote(files: list[StagedFile]) -> None:
    """Put staged files in place, at once: for local files a rename each, for an object store an upload
    each, which the promotion pool overlaps."""
    if len(files) <= 1:
        for file in files:
            file.promote()
        return
    for _ in _PROMOTERS.map(lambda file: file.promote(), files):
        pass


_PROMOTERS = ThreadPoolExecutor(8, thread_name_prefix="evidence-promote")


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


def _open_cases(
    session: Session, *, started: list[str], actors: dict[str, str], rows: dict[str, dict[str, Any]]
) -> None:
    """Case work for events that started: reopen a re-inspected case the violation came back to, and open a
    case where the site's policy says so at the start. Most starts need neither, which one look-up for the
    whole batch establishes; only the rest load their event."""
    if not started:
        return
    sites = sorted({rows[i]["site_id"] for i in started})
    inspected: set[tuple[str, str | None, str]] = set()
    custom: dict[tuple[str, str], str] = {}
    for what, site, camera, kind in session.connection().execute(_CASE_WORK, {"sites": sites}):
        if what == "reinspection":
            inspected.add((site, camera, kind))
        else:
            custom[(site, kind)] = what
    for event_id in started:
        row = rows[event_id]
        reinspected = (row["site_id"], row["camera_id"], row["kind"]) in inspected
        on_start = _trigger(custom, row["site_id"], row["kind"]) == "on_start"
        if not (reinspected or on_start):
            continue
        event = session.get_one(Event, event_id)
        if reinspected:
            recurrence(session, event=event)
        if on_start:
            maybe_open_case(session, event=event, moment="on_start", actor=actors[event_id])


def _trigger(custom: dict[tuple[str, str], str], site_id: str, kind: str) -> str:
    """The trigger of ``kind`` on ``site_id``: the site's policy, else the default (as api.cases.policy)."""
    return custom.get((site_id, kind)) or default_policy(kind)[0]
