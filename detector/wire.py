"""The wire format of an event update, from an edge box to the API: the one definition of its fields.

The edge serialises its updates through :func:`edge_json` (:meth:`streams.events.EventUpdate.to_json`);
the API reads them with :class:`api.events.schemas.IngestEventIn`, which is this model plus what the API
itself requires of what it stores (the years its times may fall in, no NUL characters). Like
:mod:`detector.kinds`, it lives in the bottom layer so that both sides can import it, and needs only
pydantic.

Example:
    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 11, 30, 8, 0, 0, 123456, UTC)
    >>> update = EventUpdateWire.model_construct(event_id="e-123456", seq=0, phase="start", kind="smoking",
    ...     site_id="s", camera_id="gate", started_at=t, updated_at=t, score=0.912345)
    >>> wire = edge_json(update)
    >>> wire["started_at"], wire["score"]
    ('2026-11-30T08:00:00.123+00:00', 0.9123)
    >>> EventUpdateWire.model_validate(wire).kind
    'smoking'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, field_validator

from detector.kinds import KindName, PhaseName

#: The fields that hold times (ISO 8601 on the wire).
TIMES: Final = ("started_at", "updated_at", "ended_at")
#: The largest frame side a box may reach, in pixels (16K video): boxes are clipped to their frame.
MAX_FRAME_PX: Final = 16384.0


class EventUpdateWire(BaseModel):
    """One update of an edge event, as it travels (the ``event`` part of an ingest request).

    Unknown keys are ignored, so that an edge box of a newer version can add some.
    """

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    seq: int = Field(ge=0, le=1_000_000)
    phase: PhaseName
    kind: KindName
    site_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    camera_id: str | None = Field(default=None, max_length=64)
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    score: float = Field(default=0.0, ge=0.0, le=1.0)
    people_count: int = Field(default=0, ge=0, le=1000)
    track_ids: list[int] = Field(default_factory=list, max_length=1000)
    best_box: list[FiniteFloat] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="The best frame's violating person: x1, y1, x2, y2 in pixels of that frame.",
    )
    evidence: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("best_box")
    @classmethod
    def _box_in_a_frame(cls, box: list[float] | None) -> list[float] | None:
        """A box as the edge clips it: corners in order, within a frame (no NaN, no infinity: FiniteFloat)."""
        if box is not None:
            x1, y1, x2, y2 = box
            if not (0 <= x1 <= x2 <= MAX_FRAME_PX and 0 <= y1 <= y2 <= MAX_FRAME_PX):
                raise ValueError(f"a box is x1 <= x2, y1 <= y2, each from 0 to {MAX_FRAME_PX:g} pixels")
        return box


def edge_json(update: EventUpdateWire) -> dict[str, Any]:
    """``update`` as the edge sends it, fields in the model's order: times in ISO 8601 UTC to the
    millisecond, the score to 4 decimals and the box to 0.1 pixel (finer is noise, and costs bytes on
    every update); ``details`` as given.

    Takes a model built with ``model_construct`` (the edge does not validate what it made itself).
    """
    out = update.model_dump()
    for key in TIMES:
        moment = out[key]
        out[key] = None if moment is None else moment.astimezone(UTC).isoformat(timespec="milliseconds")
    out["score"] = round(update.score, 4)
    if update.best_box is not None:
        out["best_box"] = [round(v, 1) for v in update.best_box]
    return out
