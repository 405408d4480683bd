"""The in-process sink of ``sitewatch run``: prints each event and keeps its evidence on local disk."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from streams.events import EventUpdate
from streams.sinks import MemorySink


class LocalEvidenceSink(MemorySink):
    """Writes each update's JSON and snapshots under ``folder/<event id>/`` and prints a line.

    Until the central API runs in the same process, this is where ``sitewatch run`` puts what it finds.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def emit(self, update: EventUpdate) -> None:
        """Keep, write and print the update."""
        super().emit(update)
        target = self.folder / update.event_id
        target.mkdir(exist_ok=True)
        (target / f"{update.seq:04d}-{update.phase.value}.json").write_text(
            json.dumps(update.to_json(), ensure_ascii=False, indent=1)
        )
        if update.evidence is not None:
            (target / "snapshot.jpg").write_bytes(update.evidence.snapshot)
            (target / "annotated.jpg").write_bytes(update.evidence.annotated)
        when = datetime.fromtimestamp(update.updated_at).strftime("%H:%M:%S")
        print(  # noqa: T201 - this sink is the console output of `sitewatch run`
            f"{when:<8}  {update.kind.value:<14}  {update.phase.value:<6}  {update.event_id[:8]}  "
            f"{update.camera_id or '-':<10}  {update.people_count:>6}  {update.score:>5.2f}",
            flush=True,
        )
