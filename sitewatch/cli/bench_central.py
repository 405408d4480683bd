"""The central side's benchmarks behind ``sitewatch bench``: the API (``bench api``), notifications
(``bench alerts``), the web UI, briefs and map (``bench ui``), the recurring-problem analysis
(``bench analysis``), the statistics (``bench stats``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_OK, add_json, positive_int, print_results
from sitewatch.tables import format_table

if TYPE_CHECKING:
    from sitewatch.cli.common import Subparsers


def run_ui_bench(args: argparse.Namespace) -> int:
    """``bench ui``: review queue and brief times at scale, in headless Chromium."""
    from sitewatch.bench.ui import bench_ui

    result = bench_ui(
        stored=args.stored,
        cards=args.cases,
        port=args.port,
        map_projects=args.map_projects,
        district_cases=args.district_cases,
        district_events=args.district_events,
        progress=not args.json,
    )
    if args.json:
        print(json.dumps(result.to_json()))
        return EXIT_OK
    figures = result.to_json()
    print(format_table(["measure", "value"], [[k, v] for k, v in figures.items()]))
    return EXIT_OK


def run_live_bench(args: argparse.Namespace) -> int:
    """``bench live``: the edge's CPU with a camera unwatched and watched, and the frames' latency."""
    from sitewatch.bench.live import bench_live

    result = bench_live(video=args.video, seconds=args.seconds, port=args.port)
    figures = result.to_json()
    if args.json:
        print(json.dumps(figures))
    else:
        print(format_table(["measure", "value"], [[k, v] for k, v in figures.items()]))
    return EXIT_OK


def run_analysis_bench(args: argparse.Namespace) -> int:
    """``bench analysis``: a seeded year of ``--stored`` events, the analysis timed, planted findings
    checked (exit 1 if one is missed or an unplanted one found)."""
    from sitewatch.bench.analysis import Plan, bench_analysis

    result = bench_analysis(plan=Plan(events=args.stored), runs=3)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(["measure", "value"], [[k, v] for k, v in result.items()]))
    return EXIT_OK if not result["problems"] else 1


def run_stats_bench(args: argparse.Namespace) -> int:
    """``bench stats``: a seeded month of ``--cases`` cases and ``--stored`` violations, the statistics and
    the closed loop's figures timed, their queries counted, the figures checked (exit 1 if one is off)."""
    from sitewatch.bench.stats import bench_stats

    result = bench_stats(cases=args.cases, events=args.stored, runs=3)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(["measure", "value"], [[k, v] for k, v in result.items()]))
    return EXIT_OK if not result["problems"] else 1


def run_alerts_bench(args: argparse.Namespace) -> int:
    """``bench alerts``: dispatcher throughput and event-to-case-system latency."""
    from sitewatch.bench.alerts import bench_alerts

    results = [
        bench_alerts(
            url,
            deliveries=args.deliveries,
            concurrency=args.concurrency,
            events=args.cases,
            port=args.port,
            progress=not args.json,
        )
        for url in (args.database_url or [None])
    ]
    columns = [
        ("database", "database"),
        ("deliveries", "deliveries"),
        ("in flight", "concurrency"),
        ("deliveries/s", "deliveries_per_s"),
        ("events", "events"),
        ("median ms", "latency_median_ms"),
        ("p95 ms", "latency_p95_ms"),
    ]
    return print_results(results, columns, as_json=args.json)


def run_api_bench(args: argparse.Namespace) -> int:
    """``bench api``: ingest rate and listing latency, on SQLite or ``--database-url``."""
    from sitewatch.bench.api import bench_api

    results = [
        bench_api(
            url,
            events=args.events,
            stored=args.stored,
            clients=args.clients,
            port=args.port,
            workers=args.api_workers,
            progress=not args.json,
        )
        for url in (args.database_url or [None])
    ]
    columns = [
        ("database", "database"),
        ("API processes", "workers"),
        ("clients", "clients"),
        ("ingest/s", "ingest_per_s"),
        ("ingest p95 ms", "ingest_p95_ms"),
        ("events stored", "stored_events"),
        ("list median ms", "list_median_ms"),
        ("list p95 ms", "list_p95_ms"),
        ("server CPU ms/event", "server_cpu_ms"),
        ("client CPU ms/event", "client_cpu_ms"),
    ]
    return print_results(results, columns, as_json=args.json)


def _port(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--port", type=int, metavar="N", default=18765, help="loopback port of the API (default 18765)"
    )


def _stored(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stored", type=int, metavar="N", default=100_000, help="events stored first (default 100000)"
    )


def _database_url(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--database-url",
        action="append",
        metavar="URL",
        help="a database to measure (repeatable; default: SQLite in a scratch folder)",
    )


def add_parsers(bench: Subparsers) -> None:
    """Add ``bench api``, ``bench alerts``, ``bench ui``, ``bench live``, ``bench analysis`` and
    ``bench stats``."""
    p = bench.add_parser(
        "api",
        help="the central API: ingest rate and listing latency",
        description="The central API in N server processes: ingest rate of concurrent edge uploads with a "
        "100 KB snapshot each, listing latency with events stored; the CPU per event of the server and of "
        "the load generator, which share the machine.",
    )
    _database_url(p)
    p.add_argument(
        "--events", type=int, metavar="N", default=1000, help="updates ingested over HTTP (default 1000)"
    )
    _stored(p)
    p.add_argument(
        "--clients",
        type=int,
        metavar="N",
        default=64,
        help="concurrent ingest clients, edge boxes posting (default 64)",
    )
    p.add_argument(
        "--api-workers", type=positive_int, metavar="N", default=2, help="API server processes (default 2)"
    )
    _port(p)
    add_json(p)
    p.set_defaults(func=run_api_bench)

    p = bench.add_parser(
        "alerts",
        help="notifications: dispatcher rate, event-to-case latency",
        description="The dispatcher's rate to a receiver in another process; time from an edge event's start "
        "to the case system holding 'create case'.",
    )
    p.add_argument(
        "--deliveries", type=int, metavar="N", default=2000, help="notifications delivered (default 2000)"
    )
    p.add_argument("--concurrency", type=int, metavar="N", default=8, help="requests in flight (default 8)")
    p.add_argument(
        "--cases", type=int, metavar="N", default=30, help="events timed to the case system (default 30)"
    )
    _database_url(p)
    _port(p)
    add_json(p)
    p.set_defaults(func=run_alerts_bench)

    p = bench.add_parser(
        "ui",
        help="the web UI, the briefs and the district map at scale (Chromium)",
        description="With events stored: the review page's first load, each next card, a weekly brief (HTML, "
        "PDF), the district map, and at a district's scale the dashboard, the case board and the case "
        "exports; needs Chromium and the dev extra.",
    )
    _stored(p)
    p.add_argument(
        "--cases", type=int, metavar="N", default=30, help="review cards timed one after another (default 30)"
    )
    p.add_argument(
        "--map-projects",
        type=int,
        metavar="N",
        default=1000,
        help="projects on the district map (default 1000; 0: the map is not measured)",
    )
    p.add_argument(
        "--district-cases",
        type=int,
        metavar="N",
        default=10_000,
        help="cases for the dashboard, the case board and the exports (default 10,000; 0: not measured)",
    )
    p.add_argument(
        "--district-events",
        type=int,
        metavar="N",
        default=100_000,
        help="events beside the district's cases (default 100,000; at least as many as the cases)",
    )
    _port(p)
    add_json(p)
    p.set_defaults(func=run_ui_bench)

    p = bench.add_parser(
        "analysis",
        help="the recurring-problem analysis on a seeded year",
        description="The recurring-problem analysis timed on a seeded year of events; exit 1 if a planted "
        "finding is missed or an unplanted one found.",
    )
    _stored(p)
    add_json(p)
    p.set_defaults(func=run_analysis_bench)

    p = bench.add_parser(
        "live",
        help="a live view: the edge's added CPU and the frames' latency",
        description="An API on loopback and an edge process (a real-time capture of a video and the live "
        "uploader): the edge's CPU with the camera unwatched, then with one viewer, and each frame's "
        "latency from capture to the viewer.",
    )
    p.add_argument(
        "--video",
        type=Path,
        default=Path("configs/demo/site-demo.mp4"),
        metavar="FILE",
        help="the camera (default configs/demo/site-demo.mp4)",
    )
    p.add_argument("--seconds", type=float, default=30.0, metavar="S", help="each measured span (default 30)")
    _port(p)
    add_json(p)
    p.set_defaults(func=run_live_bench)

    p = bench.add_parser(
        "stats",
        help="the statistics and the closed loop's figures on a seeded month",
        description="GET /api/v1/stats's figures (with the closed loop's four, against the month before and "
        "a baseline) timed on a seeded month, their queries counted; exit 1 if a figure differs from the "
        "seeded rows'.",
    )
    _stored(p)
    p.add_argument(
        "--cases", type=int, metavar="N", default=10_000, help="cases of the month (default 10000)"
    )
    add_json(p)
    p.set_defaults(func=run_stats_bench)
