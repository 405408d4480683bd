"""The API's background jobs, in one place: each runs in its own thread while the app runs.

- ``retention``: evidence retention every minute and whenever the free disk is below its floor (looked at
  every 5 s), and the sweep of files no row accounts for at start and hourly (:mod:`api.events.retention`);
- ``silent-events``: the end of events whose edge box fell silent (:mod:`api.ingest.silence`);
- ``case-sweeps`` (with the dispatcher): closing cases whose re-inspection window passed
  (:func:`api.cases.service.close_reinspected`), ``case.due_soon`` once per case whose deadline is near
  (:mod:`api.cases.due_soon`), and the scheduled briefs (:mod:`api.reports.schedule`);
- ``dispatcher``: the delivery of the notification outbox (:mod:`api.delivery.dispatcher`).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from api.cases.due_soon import raise_due_soon
from api.cases.service import close_reinspected
from api.delivery.dispatcher import DISPATCHER
from api.events.retention import LOW_DISK, apply_retention, retention_policy, sweep_orphans
from api.http.services import Services, Slot, services_of
from api.ingest.silence import end_silent_events
from api.reports.schedule import BriefScheduler

logger = logging.getLogger(__name__)

#: How often the re-inspection sweep closes cases whose window passed.
SWEEP_EVERY_S = 1.0
#: How often the brief schedules are looked at.
BRIEFS_EVERY_S = 60.0
#: How often evidence retention runs when nothing presses.
RETENTION_EVERY_S = 60.0
#: How often the free disk is looked at: below its floor, a retention pass runs at once (issue 24).
DISK_CHECK_EVERY_S = 5.0
#: How often the evidence files that no row accounts for are swept.
ORPHAN_SWEEP_EVERY_S = 3600.0


class Jobs:
    """The background jobs of ``app`` (made by :func:`api.app.create_app`: its services hold the settings,
    sessions, store and dispatcher).

    Args:
        app: the API.
        briefs: makes the scheduled briefs; ``None``: none.
        sweep_cases: close cases whose re-inspection window passed.
        due_soon: raise ``case.due_soon`` this long before a case's deadline; ``None``: never.
    """

    def __init__(
        self,
        app: FastAPI,
        *,
        briefs: BriefScheduler | None = None,
        sweep_cases: bool = True,
        due_soon: timedelta | None = None,
    ) -> None:
        self.app = app
        self.briefs = briefs
        self.sweep_cases = sweep_cases
        self.due_soon = due_soon
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start every job (and the dispatcher, if the app has one)."""
        loops = [(self._retention_loop, "retention"), (self._silence_loop, "silent-events")]
        if self.sweep_cases or self.briefs is not None or self.due_soon is not None:
            loops.append((self._case_loop, "case-sweeps"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if (dispatcher := services_of(self.app).get(DISPATCHER)) is not None:
            dispatcher.start()

    def stop(self) -> None:
        """Stop every job: the passes in progress finish (each thread is waited for up to 10 s)."""
        self._stop.set()
        if (dispatcher := services_of(self.app).get(DISPATCHER)) is not None:
            dispatcher.stop()
        for thread in self._threads:
            thread.join(timeout=10)

    def sweep_orphans(self) -> int:
        """Remove the evidence files no row accounts for, old enough (``orphan_min_age_s``); taken in turn
        with the ingest writers (SQLite), so that no upload promotes a file while it is looked at."""
        state = services_of(self.app)
        with state.write_turn(), state.sessions() as session:
            return sweep_orphans(session, store=state.store, min_age_s=state.settings.orphan_min_age_s)

    def _retention_loop(self) -> None:
        """Apply retention at start and every :data:`RETENTION_EVERY_S`, and at once (at most every
        :data:`DISK_CHECK_EVERY_S`) when the free disk falls below its floor, uploads or not; sweep the
        files no row accounts for at start and every :data:`SWEEP_EVERY_S`. A failed pass is logged and
        retried."""
        state = services_of(self.app)
        floor = state.settings.min_free_mb
        last_pass = last_sweep = float("-inf")
        while True:
            now = time.monotonic()
            if now - last_sweep >= ORPHAN_SWEEP_EVERY_S:
                last_sweep = now
                try:
                    self.sweep_orphans()
                except Exception:  # keep the loop alive; the next sweep retries
                    logger.exception("the sweep of unaccounted evidence files failed")
            try:
                free = state.store.free_mb(fresh=True)
                low = free is not None and free < floor
                due = low or now - last_pass >= RETENTION_EVERY_S
                # Through the uploads' throttle: one pass at a time, whoever asks for it.
                if due and state.get(LOW_DISK).run(partial(self._retention_pass, state)):
                    last_pass = now
            except Exception:  # keep the loop alive; the next pass retries
                logger.exception("evidence retention failed")
            if self._stop.wait(DISK_CHECK_EVERY_S):
                return

    @staticmethod
    def _retention_pass(state: Services) -> None:
        with state.sessions() as session:
            apply_retention(session, store=state.store, policy=retention_policy(state.settings))

    def _silence_loop(self) -> None:
        """End the events whose edge fell silent, checking a few times per silence period (at most every
        minute); a failed pass is logged and retried."""
        state = services_of(self.app)
        minutes = state.settings.event_silence_min
        if minutes <= 0:
            return
        silence = timedelta(minutes=minutes)
        while not self._stop.wait(min(60.0, max(0.5, silence.total_seconds() / 4))):
            try:
                with state.write_turn(), state.sessions() as session:
                    end_silent_events(
                        session,
                        store=state.store,
                        silence=silence,
                        reason=f"no update from the edge box for {minutes:g} min",
                    )
                self._wake_dispatcher()
            except Exception:  # keep the loop alive; the next pass retries
                logger.exception("ending silent events failed")

    def _case_loop(self) -> None:
        """Close re-inspected cases every ``SWEEP_EVERY_S`` (re-inspection windows last hours: once a second
        is plenty) and make the briefs due every ``BRIEFS_EVERY_S``, starting at once."""
        briefs_checked = float("-inf")
        while True:
            try:
                if self.sweep_cases:
                    with services_of(self.app).sessions() as session:
                        closed = close_reinspected(session)
                    if closed:
                        logger.info("re-inspection passed without recurrence: closed cases %s", closed)
                        self._wake_dispatcher()
                if self.due_soon is not None:
                    with services_of(self.app).write_turn(), services_of(self.app).sessions() as session:
                        near = raise_due_soon(session, lead=self.due_soon)
                    if near:
                        logger.info("deadlines near: case.due_soon for cases %s", near)
                        self._wake_dispatcher()
                if self.briefs is not None and time.monotonic() - briefs_checked > BRIEFS_EVERY_S:
                    briefs_checked = time.monotonic()
                    if self.briefs.send_briefs():
                        self._wake_dispatcher()
            except Exception:  # keep the loop alive; the next pass retries
                logger.exception("the case sweep or the brief schedule failed")
            if self._stop.wait(SWEEP_EVERY_S):
                return

    def _wake_dispatcher(self) -> None:
        if (dispatcher := services_of(self.app).get(DISPATCHER)) is not None:
            dispatcher.wake()


#: The app's background jobs.
JOBS: Slot[Jobs] = Slot("the background jobs")
