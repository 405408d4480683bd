"""The durable outbox on its own: a real SQLite file, reopened."""

from __future__ import annotations

from pathlib import Path

from streams.outbox import Outbox
from tests.streams.test_sinks import update


def test_outbox_survives_reopening_and_keeps_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    for i in range(3):
        box.put(update(i))
    box.put(update(1))  # a repeat of the same id and seq is stored once
    reopened = Outbox(tmp_path / "outbox.sqlite")
    assert len(reopened) == 3
    first = reopened.oldest()
    assert first is not None and '"event_id":"ev-0"' in first[1] and first[2]["snapshot"].endswith(b"\x00")
    reopened.delete(first[0])
    second = reopened.oldest()
    assert second is not None and '"event_id":"ev-1"' in second[1]
