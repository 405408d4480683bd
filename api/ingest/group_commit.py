"""Group commit: the ingest requests of one API process share transactions.

Each ingest request costs a transaction, and a transaction costs a disk flush and a round of statements
whatever it holds. Under load, many edge boxes post at once; one writer thread per process takes every update
waiting at that moment and stores them together with :func:`api.ingest.write.store_prepared`. Files are
checked and written before, by each request on a pool of file threads (:func:`api.ingest.prepare.prepare`), so
that their disk flushes overlap. A request is answered only once the transaction holding its update has
committed, so an answer still means "stored durably". With one request in flight the batch is that request
alone: nothing waits for company.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from api.core.db import session_factory
from api.events.schemas import IngestResult
from api.http.services import Slot
from api.ingest.prepare import Prepared, Submission, prepare
from api.ingest.write import store_prepared
from api.storage.interface import EvidenceStore

logger = logging.getLogger(__name__)

_Item = tuple[Prepared, "Future[IngestResult]"]


class GroupCommitter:
    """Stores submitted updates in batches on a writer thread of its own (started on first use).

    Args:
        engine: the database, through an engine of the committer's own (closed with it): requests waiting
            for a batch must not hold the connection the batch needs.
        store: where evidence files go.
        max_batch: the most updates one transaction holds.
        on_batch: called with the size of each batch stored (for metrics).
        lock: held around each batch's transaction (:func:`api.core.db.writer_lock`); none by default.
        file_threads: threads that check and write files; a file write waits on the disk, not the CPU.

    Example:
        >>> committer = GroupCommitter(make_engine(url, connections=1), store)  # doctest: +SKIP
        >>> result = await committer.submit(Submission(update, files, actor="edge-1"))  # doctest: +SKIP
    """

    def __init__(
        self,
        engine: Engine,
        store: EvidenceStore,
        *,
        max_batch: int = 64,
        on_batch: Callable[[int], None] | None = None,
        lock: Callable[[], AbstractContextManager[None]] = nullcontext,
        file_threads: int = 16,
        zone: ZoneInfo | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine, zone=zone)  # the zone of projects' dates (arming)
        self.store = store
        self.max_batch = max_batch
        self.on_batch = on_batch
        self.lock = lock
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # A pool of its own rather than the event loop's default one (starlette's run_in_threadpool): a
        # request then costs the event loop one hand-off and one wake-up, measurably less CPU per update.
        self._files = ThreadPoolExecutor(file_threads, thread_name_prefix="ingest-files")

    async def submit(self, submission: Submission) -> IngestResult:
        """Store one update's files, then the update with whatever else is waiting; its result once
        committed.

        Raises:
            IngestError: the update was refused (the others of its batch are not affected).
        """
        future: Future[IngestResult] = Future()
        self._ensure_thread()
        self._files.submit(self._prepare, submission, future)
        return await asyncio.wrap_future(future)

    def _prepare(self, submission: Submission, future: Future[IngestResult]) -> None:
        """On a file thread: store the files, then queue the update for the writer (or refuse it)."""
        try:
            prepared = prepare(submission, store=self.store)
        except Exception as exc:  # refused (IngestError) or the disk failed: the request hears of it
            _settle(future, exc)
        else:
            # Queued even when the request went away meanwhile: its files are stored, and a retry of the
            # update is answered as a duplicate instead of being stored anew.
            self._queue.put((prepared, future))

    def enqueue(self, prepared: Prepared) -> Future[IngestResult]:
        """Queue one update whose files are stored; the future resolves once its batch has committed (or
        was refused)."""
        future: Future[IngestResult] = Future()
        self._ensure_thread()
        self._queue.put((prepared, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, then stop the writer thread and close the engine."""
        with self._lock:
            thread, self._thread = self._thread, None
        self._files.shutdown(wait=True)  # what is being prepared still joins the queue
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
        self.engine.dispose()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._store(batch)
            if stopping:
                return

    def _store(self, batch: list[_Item]) -> None:
        """Store a batch; if its transaction fails, store its updates one by one, so that an update that
        cannot be stored fails alone and not the others that happened to arrive with it."""
        try:
            outcomes = self._transaction([item for item, _ in batch])
        except Exception as exc:  # the database failed, writers kept conflicting, or one update is bad
            if len(batch) == 1:
                logger.exception("an update was not stored")
                outcomes = [exc]
            else:
                logger.warning("a batch of %d updates failed (%s); storing them one by one", len(batch), exc)
                outcomes = [self._alone(item) for item, _ in batch]
        for (item, future), outcome in zip(batch, outcomes, strict=True):
            item.discard()  # what was not promoted (the update was not stored) goes
            _settle(future, outcome)

    def _transaction(self, items: list[Prepared]) -> list[IngestResult | Exception]:
        with self.lock(), self.sessions() as session:
            outcomes: list[IngestResult | Exception] = [*store_prepared(session, items=items)]
        if self.on_batch is not None:
            self.on_batch(len(items))
        return outcomes

    def _alone(self, item: Prepared) -> IngestResult | Exception:
        try:
            (outcome,) = self._transaction([item])
        except Exception as exc:  # this update's own failure: its request hears of it
            logger.exception("update %s/%d was not stored", item.update.event_id, item.update.seq)
            return exc
        return outcome


def _settle(future: Future[IngestResult], outcome: IngestResult | Exception) -> None:
    """Give a request its answer, unless it went away (client disconnected): what it sent stands."""
    try:
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        pass


#: The app's group committer of ingest requests.
COMMITTER: Slot[GroupCommitter] = Slot("the ingest's group committer")
