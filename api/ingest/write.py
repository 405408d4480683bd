"""The second step of ingest: prepared updates written in one transaction, with a handful of set-based
statements shared by the whole batch (see :mod:`api.ingest.group_commit`).

The transaction, :func:`_write`, runs as named steps: :func:`_sort_out` tells the updates to store from
the duplicates and the refused, :mod:`api.ingest.rows` computes the rows to write,
:func:`_insert` writes them, then case work (:func:`api.ingest.cases.open_cases`) and the promotion of the
staged files (:func:`_promote`) precede the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, Insert, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.events.schemas import IngestResult
from api.ingest.arming import disarmed
from api.ingest.cases import open_cases
from api.ingest.prepare import EventConflictError, IngestError, Prepared
from api.ingest.rows import evidence_rows, fold_updates
from api.models import Event, EvidenceFile, IngestedUpdate, Notification
from api.sites.service import ensure_site
from api.storage.interface import StagedFile

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
#: (event id, seq) already stored for the batch's events.
_SEEN = select(IngestedUpdate.event_id, IngestedUpdate.seq).where(IngestedUpdate.event_id.in_(_IDS))
#: The batch's stored events, locked (PostgreSQL; on SQLite api.core.db.writer_lock lets one writer in at a
#: time) so that two replicas folding updates into the same event do not overwrite each other; in id
#: order, so that they cannot deadlock.
_EVENTS = (
    select(*(Event.__table__.c[name] for name in ("id", "site_id", "camera_id", "kind", *_MUTABLE)))
    .where(Event.id.in_(_IDS))
    .order_by(Event.id)
    .with_for_update()
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


def store_prepared(session: Session, *, items: Sequence[Prepared]) -> list[IngestResult | IngestError]:
    """Store prepared updates in one transaction (commits); the answer for each, in the order given.

    An update whose (event id, seq) is already stored, or appears earlier in the batch, is a ``duplicate``.
    A violation of an event not stored yet that starts while its site's project is not active is
    ``disarmed``: acknowledged, not stored (:mod:`api.ingest.arming`).
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


@dataclass(slots=True)
class _Batch:
    """One attempt's view of the batch.

    Attributes:
        rows: the batch's events as rows, by id: those stored (locked), then also those it creates.
        existing: the ids of the events stored before this attempt.
        fresh: the updates to store, with their index in the batch.
        refused: the answers of the updates not stored but duplicates (another site's event, disarmed).
    """

    rows: dict[str, dict[str, Any]]
    existing: set[str]
    fresh: list[tuple[int, Prepared]] = field(default_factory=list)
    refused: dict[int, IngestError | IngestResult] = field(default_factory=dict)


def _write(
    session: Session, items: Sequence[Prepared]
) -> tuple[set[int], dict[int, IngestError | IngestResult]]:
    """One attempt at the batch's transaction; commits. Returns the indexes of the updates stored, and the
    answers of the others but duplicates: refusals of those naming an event of another site, and the
    disarmed."""
    now = datetime.now(UTC)
    # Core statements on the session's connection: the ORM's bookkeeping would cost more than the rows.
    connection = session.connection()
    batch = _sort_out(connection, items)
    _drop_disarmed(session, batch, items)
    if not batch.fresh:
        session.rollback()
        return set(), batch.refused
    for site_id in sorted({item.update.site_id for _, item in batch.fresh}):
        ensure_site(session, site_id=site_id)
    new_files = evidence_rows(batch.fresh, now=now)
    notices, started = fold_updates(batch.fresh, rows=batch.rows, now=now)
    _insert(session, connection, batch, new_files=new_files, notices=notices, now=now)
    actors = {item.update.event_id: item.actor for _, item in batch.fresh}
    open_cases(session, started=started, actors=actors, rows=batch.rows)
    _promote([file for _, item in batch.fresh for file in item.staged])
    session.commit()
    return {index for index, _ in batch.fresh}, batch.refused


def _sort_out(connection: Connection, items: Sequence[Prepared]) -> _Batch:
    """Read what the batch's events already hold, and sort the updates: those naming another site's event
    are refused, repeats of a stored (event id, seq) or of one earlier in the batch are duplicates (in
    neither list), the rest are fresh."""
    event_ids = sorted({item.update.event_id for item in items})
    seen: set[tuple[str, int]] = {(e, seq) for e, seq in connection.execute(_SEEN, {"ids": event_ids})}
    rows = {row["id"]: dict(row) for row in connection.execute(_EVENTS, {"ids": event_ids}).mappings()}
    batch = _Batch(rows=rows, existing=set(rows))
    # The site each event belongs to: the stored event's, else the first update's of this batch.
    owners = {event_id: row["site_id"] for event_id, row in rows.items()}
    for index, item in enumerate(items):
        u = item.update
        owner = owners.setdefault(u.event_id, u.site_id)
        if owner != u.site_id:  # checked before all else: a repeat must not tell another site's seqs either
            batch.refused[index] = EventConflictError(
                f"event {u.event_id} belongs to another site than {u.site_id}; choose a new event id"
            )
            continue
        key = (u.event_id, u.seq)
        if key not in seen:
            seen.add(key)  # a second copy in this batch is a duplicate of the first
            batch.fresh.append((index, item))
    return batch


def _drop_disarmed(session: Session, batch: _Batch, items: Sequence[Prepared]) -> None:
    """Take out of the fresh updates the violations that would start an event while their site's project
    is not active (:mod:`api.ingest.arming`), answering them ``disarmed``."""
    new = ((index, item.update) for index, item in batch.fresh if item.update.event_id not in batch.rows)
    if off := disarmed(session, updates=new):
        batch.fresh = [(index, item) for index, item in batch.fresh if index not in off]
        for index in off:
            u = items[index].update
            batch.refused[index] = IngestResult(status="disarmed", event_id=u.event_id, seq=u.seq)


def _insert(
    session: Session,
    connection: Connection,
    batch: _Batch,
    *,
    new_files: dict[str, dict[str, Any]],
    notices: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Write the batch's rows: evidence files, the updates, new and changed events, notifications."""
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
            for _, item in batch.fresh
        ],
    )
    rows = batch.rows
    touched = {item.update.event_id for _, item in batch.fresh}
    if created := [rows[i] for i in touched - batch.existing]:
        connection.execute(_INSERT_EVENTS, created)
    if changed := [{k: rows[i][k] for k in ("id", *_MUTABLE)} for i in touched & batch.existing]:
        session.execute(update(Event), changed)  # the ORM's bulk UPDATE by primary key
    if notices:
        connection.execute(_INSERT_NOTIFICATIONS, notices)


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
