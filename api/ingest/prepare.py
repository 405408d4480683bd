"""The first step of ingest: an update's files checked (what they claim to be, the hashes announced) and
staged in the evidence store, for many updates at once; and what ingest refuses, and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import cv2
import numpy as np

from api.core.errors import ConflictError, InvalidError
from api.events.schemas import IngestEventIn
from api.storage.interface import EvidenceStore, StagedFile

MEDIA = {"snapshot": "image/jpeg", "annotated": "image/jpeg", "clip": "video/mp4"}


class IngestError(InvalidError, ValueError):
    """The update cannot be stored as sent; the message says why (answered with 422)."""


class EventConflictError(ConflictError, IngestError):
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
