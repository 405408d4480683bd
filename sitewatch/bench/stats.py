"""``sitewatch bench stats``: a district's month seeded (10,000 cases, 100,000 violations by default), the
statistics of ``GET /api/v1/stats`` (with the closed loop's four figures against the month before and a
baseline) timed on it, the queries counted, and the four figures checked against the seeded rows.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event as sa_event
from sqlalchemy import insert

from api.access.auth import Principal
from api.core.db import make_engine, migrate, session_factory
from api.core.kinds import VIOLATIONS
from api.models import Case, CaseHistory, Event, Site
from api.reports.closed_loop import LoopTargets
from api.reports.stats import stats_of
from detector.evaluation.figures import figures

#: The zone of the seeded month.
ZONE = ZoneInfo("Asia/Shanghai")
#: The seeded month (the one before it holds nothing: its figures are empty).
MONTH = (datetime(2026, 10, 1, tzinfo=ZONE), datetime(2026, 11, 1, tzinfo=ZONE))


def _seed(sessions: Any, *, cases: int, events: int, sites: int, seed: int) -> dict[str, float]:
    """Seed the month; returns the four figures as the seeded rows give them (worked out here, in Python)."""
    rng = random.Random(seed)
    start, end = (moment.astimezone(UTC) for moment in MONTH)
    span = (end - start).total_seconds()
    names = [f"site-{i:03d}" for i in range(sites)]
    case_rows, history, handled, called = [], [], [], 0
    for i in range(cases):
        at = start + timedelta(seconds=rng.uniform(0, span))
        closed = at + timedelta(hours=rng.uniform(0.5, 120)) if rng.random() < 0.9 else None
        if closed is not None and closed < end:
            handled.append((closed - at).total_seconds() / 3600)
        case_rows.append(
            {
                "id": i + 1,
                "site_id": names[i % sites],
                "camera_id": "cam-0",
                "kind": VIOLATIONS[i % len(VIOLATIONS)],
                "status": "closed" if closed else "dispatched",
                "created_at": at,
                "updated_at": closed or at,
                "deadline_at": at + timedelta(hours=24),
                "closed_at": closed,
            }
        )
        history.append({"case_id": i + 1, "at": at, "actor": "system", "to_status": "open", "note": ""})
        if rng.random() < 0.5:  # the phone channel's attempt, as api.delivery.contacts writes it
            called += 1
            history.append(
                {"case_id": i + 1, "at": at, "actor": "alerts:voice", "to_status": "open", "note": ""}
            )
    event_rows = []
    for i in range(events):
        at = start + timedelta(seconds=rng.uniform(0, span))
        event_rows.append(
            {
                "id": f"evt-{i:07d}",
                "site_id": names[i % sites],
                "camera_id": f"cam-{i % 3}",
                "kind": VIOLATIONS[i % len(VIOLATIONS)],
                "status": "ended",
                "started_at": at,
                "updated_at": at,
                "review_status": rng.choice(["pending", "confirmed", "false_alarm"]),
                "details": {},
            }
        )
    with sessions() as session:
        session.execute(insert(Site), [{"id": s, "name": s, "created_at": start} for s in names])
        for rows, table in ((event_rows, Event), (case_rows, Case), (history, CaseHistory)):
            for chunk in range(0, len(rows), 5000):
                session.execute(insert(table), rows[chunk : chunk + 5000])
        session.commit()
    return {
        "closure_rate": len(handled) / cases if cases else 0.0,
        "mean_handling_hours": statistics.fmean(handled) if handled else 0.0,
        "median_handling_hours": statistics.median(handled) if handled else 0.0,
        "fast_close_rate": sum(h <= 24 for h in handled) / len(handled) if handled else 0.0,
        "call_share": called / cases if cases else 0.0,
    }


def check(answer: dict[str, Any], expected: dict[str, float]) -> list[str]:
    """Where the answer's figures differ from those of the seeded rows (empty: none)."""
    problems = []
    for name, value in expected.items():
        got = answer["closed_loop"]["figures"][name]["value"] or 0.0
        if abs(got - value) > (1e-3 if name.endswith("hours") else 1e-4):
            problems.append(f"{name}: {got} != {value:.4f}")
    return problems


def bench_stats(
    *, cases: int = 10_000, events: int = 100_000, sites: int = 50, runs: int = 3, folder: Path | None = None
) -> dict[str, Any]:
    """Seed a month into a fresh SQLite database, time the statistics of that month (best and median of
    ``runs``, and the least CPU time), count their queries, and check the four figures."""
    with tempfile.TemporaryDirectory(prefix="sitewatch-stats-") as temp:
        engine = make_engine(f"sqlite:///{(folder or Path(temp)) / 'stats.sqlite'}")
        migrate(engine)
        sessions = session_factory(engine, key_pepper=b"bench")
        began = time.perf_counter()
        expected = _seed(sessions, cases=cases, events=events, sites=sites, seed=21)
        seeded_s = time.perf_counter() - began
        statements: list[str] = []
        sa_event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        targets = LoopTargets(baseline_since=date(2026, 10, 1), baseline_until=date(2026, 10, 15))
        times, cpu, queries = [], [], 0
        for _ in range(runs):
            statements.clear()
            with sessions() as session:
                began, used = time.perf_counter(), time.process_time()
                answer = stats_of(
                    session,
                    principal=Principal(name="bench", role="admin"),
                    since=MONTH[0],
                    until=MONTH[1],
                    tz=ZONE.key,
                    targets=targets,
                )
                times.append(time.perf_counter() - began)
                cpu.append(time.process_time() - used)  # SQLite runs in this process: its CPU time too
            queries = len(statements)
        engine.dispose()
    times.sort()
    return figures(
        {
            "cases": cases,
            "events": events,
            "seed_s": seeded_s,
            "stats_best_s": times[0],
            "stats_median_s": times[len(times) // 2],
            "stats_cpu_s": min(cpu),
            "queries": queries,
            "problems": check(answer, expected),
        }
    )
