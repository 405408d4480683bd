"""The central side's benchmarks behind ``sitewatch bench``: the API (``--api``), notifications
(``--alerts``), the web UI and briefs (``--ui``), the recurring-problem analysis (``--analysis``)."""

from __future__ import annotations

import argparse
import json

from sitewatch.cli.common import EXIT_OK, print_results
from sitewatch.tables import format_table


def run_ui_bench(args: argparse.Namespace) -> int:
    """``bench --ui``: review queue and brief times at scale, in headless Chromium."""
    from sitewatch.bench.ui import bench_ui

    result = bench_ui(
        stored=args.stored,
        cards=args.cases,
        port=args.port,
        map_projects=args.map_projects,
        progress=not args.json,
    )
    if args.json:
        print(json.dumps(result.to_json()))
        return EXIT_OK
    figures = result.to_json()
    print(format_table(["measure", "value"], [[k, v] for k, v in figures.items()]))
    return EXIT_OK


def run_analysis_bench(args: argparse.Namespace) -> int:
    """``bench --analysis``: a seeded year of ``--stored`` events, the analysis timed, planted findings
    checked (exit 1 if one is missed or an unplanted one found)."""
    from sitewatch.bench.analysis import Plan, bench_analysis

    result = bench_analysis(plan=Plan(events=args.stored), runs=3)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(["measure", "value"], [[k, v] for k, v in result.items()]))
    return EXIT_OK if not result["problems"] else 1


def run_alerts_bench(args: argparse.Namespace) -> int:
    """``bench --alerts``: dispatcher throughput and event-to-case-system latency."""
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
    """``bench --api``: ingest rate and listing latency, on SQLite or ``--database-url``."""
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
