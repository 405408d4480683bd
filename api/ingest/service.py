"""Storing event updates from edge boxes, exactly once per (event id, seq).

Updates are stored in two steps: :func:`api.ingest.prepare.prepare` checks and writes an update's files
(for many updates at once), then :func:`api.ingest.write.store_prepared` writes any number of prepared
updates in one transaction with a handful of set-based statements, so that the cost of a commit (a disk
flush) and of each statement is shared by all the updates that arrived together (see
:mod:`api.ingest.group_commit`). :func:`ingest_update` does both for one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.events.schemas import IngestEventIn, IngestResult
from api.ingest.prepare import IngestError, Submission, prepare
from api.ingest.write import store_prepared
from api.storage.interface import EvidenceStore


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
