"""An event update as the edge serialises it is what the API reads: the same wire format
(``detector.wire``), for every kind and phase, and its JSON stays as the edge has always sent it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from api.events.schemas import IngestEventIn
from detector.kinds import EventKind, Phase
from detector.wire import EventUpdateWire
from streams.events import EventUpdate, Evidence

START = datetime(2026, 11, 23, 2, 0, 0, 123456, UTC).timestamp()


def update(kind: EventKind, phase: Phase) -> EventUpdate:
    first = EventUpdate.begin(
        kind,
        "site-a",
        None if kind is EventKind.OFFICER_ABSENT else "gate",
        started_at=START,
        now=START + 0.5,
        score=0.876543,
        people_count=2,
        track_ids=(3, 7),
        best_box=(10.04, 20.06, 110.5, 220.44),
        evidence=Evidence(b"clean", b"annotated", b"clip"),
        details={"camera": "gate", "seen": None},
    )
    if phase is Phase.START:
        return first
    return first.next(phase, START + 61.25, ended_at=START + 60.0 if phase is Phase.END else None)


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("kind", list(EventKind))
def test_what_the_edge_sends_the_api_reads_back_unchanged(kind: EventKind, phase: Phase) -> None:
    sent = update(kind, phase)
    body = sent.body()
    read = IngestEventIn.model_validate_json(body)
    assert set(json.loads(body)) == set(EventUpdateWire.model_fields) == set(IngestEventIn.model_fields)
    assert (read.event_id, read.seq, read.phase, read.kind) == (sent.event_id, sent.seq, phase, kind)
    assert (read.site_id, read.camera_id) == (sent.site_id, sent.camera_id)
    assert read.started_at.timestamp() == pytest.approx(sent.started_at, abs=1e-3)
    assert read.updated_at.timestamp() == pytest.approx(sent.updated_at, abs=1e-3)
    ended = None if read.ended_at is None else read.ended_at.timestamp()
    assert ended == (None if sent.ended_at is None else pytest.approx(sent.ended_at, abs=1e-3))
    assert read.score == pytest.approx(sent.score, abs=1e-4)
    assert (read.people_count, read.track_ids) == (2, [3, 7])
    assert read.best_box == pytest.approx(list(sent.best_box or ()), abs=0.05)
    assert read.evidence == (sent.evidence.hashes() if sent.evidence else {})
    assert read.details == sent.details


def test_the_edge_json_is_pinned() -> None:
    sent = update(EventKind.SMOKING, Phase.END)
    assert sent.body() == (
        f'{{"event_id":"{sent.event_id}","seq":1,"phase":"end","kind":"smoking","site_id":"site-a",'
        '"camera_id":"gate","started_at":"2026-11-23T02:00:00.123+00:00",'
        '"updated_at":"2026-11-23T02:01:01.373+00:00","ended_at":"2026-11-23T02:01:00.123+00:00",'
        '"score":0.8765,"people_count":2,"track_ids":[3,7],"best_box":[10.0,20.1,110.5,220.4],'
        '"evidence":{},"details":{"camera":"gate","seen":null}}'
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"kind": "flood"}, "kind"),
        ({"phase": "pause"}, "phase"),
        ({"started_at": "1999-12-31T23:59:59+00:00"}, "started_at"),
        ({"score": 1.5}, "score"),
    ],
)
def test_the_api_refuses_what_the_wire_format_does_not_allow(change: dict[str, object], problem: str) -> None:
    wire = {**update(EventKind.NO_HELMET, Phase.START).to_json(), **change}
    with pytest.raises(ValueError, match=problem):
        IngestEventIn.model_validate(wire)
