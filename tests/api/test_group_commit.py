"""Group commit: concurrent updates share transactions, and each still gets its own answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.core.db import make_engine, writer_lock
from api.events.schemas import IngestEventIn, IngestResult
from api.http.services import services_of
from api.ingest.group_commit import GroupCommitter
from api.ingest.prepare import IngestError, Submission, prepare
from api.ingest.service import ingest_update
from api.ingest.write import store_prepared
from api.models import Event, EvidenceFile, IngestedUpdate, Notification
from tests.api.builders import JPEG, event, evidence_accounted_for, other_jpeg, post
from tests.api.conftest import Api


def submission(event_id: str, seq: int = 0, files: dict[str, bytes] | None = None) -> Submission:
    body = event(event_id, seq)
    body["evidence"] = {}
    return Submission(IngestEventIn.model_validate(body), files or {}, "edge box A")


def count(api: Api, table: type[object]) -> int:
    with services_of(api.app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


class Gate:
    """A writer lock that holds the first batch until the test opens it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()

    @contextmanager
    def lock(self) -> Iterator[None]:
        self.entered.set()
        self.open.wait(10)
        yield


def test_updates_waiting_together_are_stored_in_one_transaction(api: Api) -> None:
    gate = Gate()
    sizes: list[int] = []
    committer = GroupCommitter(
        make_engine(api.database_url, connections=1),
        services_of(api.app).store,
        on_batch=sizes.append,
        lock=gate.lock,
    )
    try:
        first = committer.enqueue(prepare(submission("evt-group-000"), store=services_of(api.app).store))
        assert gate.entered.wait(10)  # the first batch (of one) is waiting for the lock
        rest: list[Future[IngestResult]] = [
            committer.enqueue(prepare(submission(f"evt-group-{i:03d}"), store=services_of(api.app).store))
            for i in range(1, 11)
        ]
        gate.open.set()
        results = [first.result(10), *(f.result(10) for f in rest)]
    finally:
        committer.close()
    assert [r.status for r in results] == ["stored"] * 11
    assert [r.event_id for r in results] == [f"evt-group-{i:03d}" for i in range(11)]
    assert sizes == [1, 10]
    assert count(api, Event) == 11 and count(api, IngestedUpdate) == 11
    assert count(api, Notification) == 11  # one event.started each


def test_a_batch_answers_each_update_on_its_own(api: Api) -> None:
    store = services_of(api.app).store
    with pytest.raises(IngestError, match="not a JPEG"):  # refused before it joins any batch
        prepare(submission("evt-batch-002", files={"snapshot": b"not a jpeg"}), store=store)
    batch = [
        prepare(s, store=store)
        for s in (
            submission("evt-batch-001", files={"snapshot": JPEG}),
            submission("evt-batch-001"),  # the same (event id, seq) again, in the same batch
            submission("evt-batch-001", seq=1, files={"snapshot": JPEG}),  # a later update of the first
            submission("evt-batch-003", files={"snapshot": JPEG}),  # the same file as the first
        )
    ]
    with services_of(api.app).sessions() as session:
        results = store_prepared(session, items=batch)
    assert [r.status for r in results] == ["stored", "duplicate", "stored", "stored"]
    with services_of(api.app).sessions() as session:
        first = session.get_one(Event, "evt-batch-001")
        assert first.last_seq == 1 and first.snapshot_sha256 is not None
        assert session.get(Event, "evt-batch-002") is None
        assert session.scalar(select(func.count()).select_from(EvidenceFile)) == 1
    with services_of(api.app).sessions() as session:  # sent again: every one is now a duplicate
        again = store_prepared(session, items=batch)
    assert [r.status for r in again] == ["duplicate"] * 4


def test_more_concurrent_uploads_than_database_connections_all_complete(api: Api) -> None:
    # Regression: each waiting request held a pooled connection while the batch writer waited for one
    # from the same pool (5 + 10): with 16 uploads at once, every one of them timed out after 30 s.
    codes: list[int] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        code = post(api, event(f"evt-many-{i:03d}"), files={"snapshot": JPEG}).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [201] * 24
    assert count(api, Event) == 24


def test_a_request_that_went_away_does_not_stop_the_writer(api: Api) -> None:
    # The client disconnects while its update waits for its batch: the batch still stores it, and the
    # writer, finding nobody to answer, goes on with the next batch.
    gate = Gate()
    store = services_of(api.app).store
    committer = GroupCommitter(make_engine(api.database_url, connections=1), store, lock=gate.lock)
    try:
        abandoned = committer.enqueue(prepare(submission("evt-gone-001"), store=store))
        assert gate.entered.wait(10)
        assert abandoned.cancel()
        gate.open.set()
        later = committer.enqueue(prepare(submission("evt-gone-002"), store=store))
        assert later.result(10).status == "stored"
    finally:
        committer.close()
    assert count(api, Event) == 2


def test_submit_answers_refusals_and_survives_a_cancelled_request(api: Api) -> None:
    # submit() writes files on the committer's file threads, then queues the update: a refused file is the
    # request's error alone, and a request cancelled while its batch waits is stored all the same.
    gate = Gate()
    committer = GroupCommitter(
        make_engine(api.database_url, connections=1), services_of(api.app).store, lock=gate.lock
    )

    async def scenario() -> IngestResult:
        with pytest.raises(IngestError, match="not a JPEG"):
            await committer.submit(submission("evt-cancel-000", files={"snapshot": b"not a jpeg"}))
        cancelled = asyncio.create_task(
            committer.submit(submission("evt-cancel-001", files={"snapshot": JPEG}))
        )
        assert await asyncio.to_thread(gate.entered.wait, 10)
        cancelled.cancel()
        with suppress(asyncio.CancelledError):
            await cancelled
        gate.open.set()
        return await committer.submit(submission("evt-cancel-002"))

    try:
        assert asyncio.run(scenario()).status == "stored"
    finally:
        committer.close()
    with services_of(api.app).sessions() as session:
        assert set(session.scalars(select(Event.id))) == {"evt-cancel-001", "evt-cancel-002"}
        assert session.get_one(Event, "evt-cancel-001").snapshot_sha256 is not None


def test_writers_of_one_sqlite_file_take_turns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    order: list[str] = []

    def second() -> None:
        with writer_lock(url):
            order.append("second")

    with writer_lock(url):
        other = threading.Thread(target=second)
        other.start()
        other.join(0.3)
        assert other.is_alive()  # waiting for the lock
        order.append("first")
    other.join(5)
    assert order == ["first", "second"]


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "postgresql+psycopg://u@localhost/db"])
def test_other_databases_need_no_writer_lock(url: str) -> None:
    """Only a SQLite file needs the OS lock: for others, a second holder in another thread is not kept
    waiting."""
    entered = threading.Event()

    def second() -> None:
        with writer_lock(url):
            entered.set()

    with writer_lock(url):
        other = threading.Thread(target=second)
        other.start()
        assert entered.wait(5), "a second holder waited: the lock was taken"
    other.join(5)


def test_two_replicas_folding_updates_of_one_event_lose_none(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two writers (as two API replicas, with the lock the app gives them) fold updates 2 and 1 into the
    # event at the same moment. Regression guard: without the event row locked while it is folded, both
    # read last_seq 0, and the later commit (update 1) wrote an older state over update 2.
    import api.ingest.rows as rows_module

    store = services_of(api.app).store
    with services_of(api.app).sessions() as session:
        ingest_update(
            session, update=IngestEventIn.model_validate(event("evt-shared-001", 0)), files={}, store=store
        )
    both_read = threading.Barrier(2)
    real_fold = rows_module._fold

    def fold_together(row: dict[str, object], update: IngestEventIn, digests: dict[str, str]) -> None:
        with suppress(threading.BrokenBarrierError):  # passed only if neither waits for the other's lock
            both_read.wait(timeout=1.5)
        if update.seq == 1:
            time.sleep(0.3)  # update 1 commits last
        real_fold(row, update, digests)

    monkeypatch.setattr(rows_module, "_fold", fold_together)
    replicas = [
        GroupCommitter(
            make_engine(api.database_url, connections=1), store, lock=lambda: writer_lock(api.database_url)
        )
        for _ in range(2)
    ]
    try:
        pending = [
            replica.enqueue(prepare(submission("evt-shared-001", seq), store=store))
            for replica, seq in zip(replicas, (2, 1), strict=True)
        ]
        assert [f.result(30).status for f in pending] == ["stored", "stored"]
    finally:
        for replica in replicas:
            replica.close()
    with services_of(api.app).sessions() as session:
        assert session.get_one(Event, "evt-shared-001").last_seq == 2


def test_an_update_that_fails_its_batch_fails_alone(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (issue 13, finding 4): one update whose write raised failed every update of its batch
    # (98 of another edge's 200 uploads answered 500). A failed batch is stored again one update at a time.
    import api.ingest.rows as rows_module

    real_fold = rows_module._fold

    def fold(row: dict[str, object], update: IngestEventIn, digests: dict[str, str]) -> None:
        if update.event_id == "evt-poison-001":
            raise OverflowError("date value out of range")
        real_fold(row, update, digests)

    monkeypatch.setattr(rows_module, "_fold", fold)
    gate = Gate()
    sizes: list[int] = []
    store = services_of(api.app).store
    committer = GroupCommitter(
        make_engine(api.database_url, connections=1), store, on_batch=sizes.append, lock=gate.lock
    )
    try:
        first = committer.enqueue(prepare(submission("evt-alone-000"), store=store))
        assert gate.entered.wait(10)
        names = ["evt-alone-001", "evt-poison-001", "evt-alone-002", "evt-alone-003"]
        pending = [
            committer.enqueue(prepare(submission(name, files={"snapshot": other_jpeg(i)}), store=store))
            for i, name in enumerate(names)
        ]
        gate.open.set()
        assert first.result(10).status == "stored"
        outcomes: dict[str, str] = {}
        for name, future in zip(names, pending, strict=True):
            error = future.exception(10)
            outcomes[name] = type(error).__name__ if error else future.result().status
    finally:
        committer.close()
    assert outcomes == {
        "evt-alone-001": "stored",
        "evt-poison-001": "OverflowError",
        "evt-alone-002": "stored",
        "evt-alone-003": "stored",
    }
    assert count(api, Event) == 4 and count(api, IngestedUpdate) == 4
    assert evidence_accounted_for(api)  # the failed update's file did not stay (finding 7)


def test_a_batch_refuses_an_update_naming_an_event_of_another_site(api: Api) -> None:
    # Two updates of one new event id from two sites in one batch: the first owns the event.
    store = services_of(api.app).store
    other = IngestEventIn.model_validate(event("evt-claimed-01", 1, site="site-b") | {"evidence": {}})
    batch = [
        prepare(submission("evt-claimed-01"), store=store),
        prepare(Submission(other, {}, "edge box B"), store=store),
        prepare(submission("evt-claimed-02"), store=store),
    ]
    with services_of(api.app).sessions() as session:
        results = store_prepared(session, items=batch)
    outcomes = [getattr(r, "status", type(r).__name__) for r in results]
    assert outcomes == ["stored", "EventConflictError", "stored"]
    with services_of(api.app).sessions() as session:
        assert session.get_one(Event, "evt-claimed-01").last_seq == 0
