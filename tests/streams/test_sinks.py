"""The HTTP sink (and its outbox) against a real HTTP receiver on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.events import EventKind, EventUpdate, Evidence, Phase
from streams.outbox import Outbox
from streams.sinks import HttpSink
from tests.streams.receiver import Receiver
from tests.waiting import wait_for


def update(i: int, seq: int = 0, evidence: bool = True) -> EventUpdate:
    return EventUpdate(
        event_id=f"ev-{i}",
        seq=seq,
        phase=Phase.START if seq == 0 else Phase.UPDATE,
        kind=EventKind.NO_HELMET,
        site_id="site",
        camera_id="gate",
        started_at=1000.0 + i,
        updated_at=1000.0 + i + seq,
        evidence=Evidence(b"\xff\xd8clean" + bytes([i]), b"\xff\xd8annotated" + bytes([i]))
        if evidence
        else None,
    )


def test_every_update_arrives_once_in_order_after_failures(tmp_path: Path) -> None:
    with Receiver(fail_first=3) as receiver:
        sink = HttpSink(
            receiver.url, "edge-key", Outbox(tmp_path / "o.sqlite"), backoff_initial_s=0.05, backoff_max_s=0.2
        )
        for i in range(5):
            sink.emit(update(i))
            sink.emit(update(i, seq=1, evidence=False))
        wait_for(lambda: len(receiver.stored) == 10, 20, "10 updates")
        sink.close()
    assert [(e["event_id"], e["seq"]) for e in receiver.stored] == [
        (f"ev-{i}", s) for i in range(5) for s in (0, 1)
    ]
    assert receiver.duplicates == 0 and receiver.failed == 3
    assert receiver.auth == {"Bearer edge-key"}
    first = receiver.files[("ev-0", 0)]
    assert first["snapshot"].startswith(b"\xff\xd8clean") and first["annotated"].startswith(
        b"\xff\xd8annotated"
    )
    assert len(sink.outbox) == 0


def test_an_update_the_api_refuses_is_set_aside_and_the_rest_go_on(tmp_path: Path) -> None:
    with Receiver(refuse={"ev-1"}) as receiver:
        sink = HttpSink(receiver.url, None, Outbox(tmp_path / "o.sqlite"), backoff_initial_s=0.05)
        for i in range(3):
            sink.emit(update(i))
        wait_for(lambda: len(receiver.stored) == 2, 20, "2 updates")
        sink.close()
    assert [e["event_id"] for e in receiver.stored] == ["ev-0", "ev-2"]
    assert len(sink.outbox) == 0  # the refused one is kept in the file, out of the queue


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(tmp_path: Path, status: int) -> None:
    with Receiver(fail_first=2, fail_status=status) as receiver:
        sink = HttpSink(receiver.url, None, Outbox(tmp_path / "o.sqlite"), backoff_initial_s=0.05)
        sink.emit(update(0))
        wait_for(lambda: len(receiver.stored) == 1, 20, "1 update")
        sink.close()
    assert receiver.failed == 2 and sink.failures == 2
