"""``sitewatch bench``: every benchmark's front-end, each printing its figures the same way (a table, or
one JSON object per line with ``--json``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detector.kinds import PERSON_KINDS
from sitewatch.cli.bench_gpu import add_arguments as add_gpu_arguments
from sitewatch.cli.bench_gpu import bench_gpu
from sitewatch.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    config_or_default,
    image_paths,
    logger,
    positive_int,
    print_results,
)
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from detector.smoking import SmokingScheduler
    from sitewatch.cli.common import Subparsers
    from sitewatch.config import Config


def cmd_bench(args: argparse.Namespace) -> int:
    """Time the detection engine per stage next to the bare onnxruntime session."""
    import cv2
    import onnxruntime as ort

    from detector.engine import Engine
    from sitewatch.bench.engine import bench_engine

    if args.gpu:
        return bench_gpu(args)
    if args.api:
        return _bench_api(args)
    if args.analysis:
        return _bench_analysis(args)
    if args.alerts:
        return _bench_alerts(args)
    if args.ui:
        return _bench_ui(args)
    config = config_or_default(args.config)
    if args.cameras:
        return _bench_cameras(args, config)
    paths = image_paths(args.images)
    images = [img for img in (cv2.imread(str(p)) for p in paths) if img is not None]
    if not images:
        logger.error("no readable images among %s", ", ".join(map(str, args.images)))
        return EXIT_USAGE
    scheduler = config.smoking.scheduler()
    if args.runtimes:
        return _bench_runtimes(args, config, images)
    if args.models:
        return _bench_models(args, config, images, scheduler)
    engine = Engine(config.engine_settings())
    result = bench_engine(engine, images, runs=args.runs, scheduler=scheduler, progress=not args.json)
    if args.json:
        print(json.dumps(result.to_json()))
        return EXIT_OK
    threads = config.runtime.intra_op_threads or "auto"
    print(
        f"PPE model {engine.ppe.path.name}, {len(images)} images, {args.runs} runs, onnxruntime "
        f"{ort.__version__}, providers {config.runtime.providers}, threads {threads}"
    )
    rows: list[list[object]] = [[stage, ms] for stage, ms in result.stages_ms.items()]
    rows += [["engine (median)", result.engine_ms], ["bare session.run (median)", result.raw_ms]]
    print(format_table(["stage", "ms/frame"], rows))
    ratio = f"{result.ratio:.3f}" if result.ratio else "-"
    print(f"engine / raw = {ratio}   ({result.fps:.1f} frames/s)")
    if result.smoking_ms_per_crop is not None:
        print(
            f"smoking: {result.smoking_ms_per_crop:.2f} ms per crop; "
            f"{result.smoking_ms_per_frame:.2f} ms per "
            f"frame with {result.scene_people} tracked people (each rechecked every "
            f"{scheduler.recheck_frames} frames, at most {scheduler.max_per_frame} per frame)"
        )
    return EXIT_OK


def _bench_runtimes(args: argparse.Namespace, config: Config, images: list[Any]) -> int:
    """``sitewatch bench --runtimes``: onnxruntime / OpenVINO, float / INT8 PPE model, interleaved."""
    from detector.modelfiles import resolve
    from sitewatch.bench.runtimes import available_options, bench_runtimes

    base = config.models.dir
    options = available_options(resolve(args.float, base), resolve(args.int8, base))
    results = bench_runtimes(
        options, images, config.engine_settings(), runs=args.runs, progress=not args.json
    )
    if args.json:
        for result in results:
            print(json.dumps(result.to_json()))
        return EXIT_OK
    print(f"{len(images)} images, {args.runs} frames per option, interleaved; engine without smoking")
    rows = [
        [r.option.label, r.option.model.name, r.inference_ms, r.engine_ms, r.vs_first, r.fps] for r in results
    ]
    print(format_table(["runtime", "model", "inference ms", "engine ms/frame", "vs first", "fps"], rows))
    return EXIT_OK


def _bench_models(
    args: argparse.Namespace, config: Config, images: list[Any], scheduler: SmokingScheduler
) -> int:
    """``sitewatch bench --models A B``: the engine's time per frame with each PPE model, in one run.

    The models take turns in three rounds, so that load on the machine falls on each alike; the table
    gives each model's median over the rounds and its cost relative to the first model.
    """
    import dataclasses
    import statistics

    from detector.engine import Engine
    from detector.figures import figures
    from sitewatch.bench.engine import bench_engine

    engines = [
        Engine(dataclasses.replace(config.engine_settings(), ppe_model=model)) for model in args.models
    ]
    rounds: list[list[float]] = [[] for _ in engines]
    raw: list[list[float]] = [[] for _ in engines]
    per_round = max(1, args.runs // 3)
    for _ in range(3):
        for i, engine in enumerate(engines):
            result = bench_engine(engine, images, runs=per_round, scheduler=scheduler, progress=False)
            rounds[i].append(result.engine_ms)
            if result.raw_ms is not None:
                raw[i].append(result.raw_ms)
    medians = [statistics.median(r) for r in rounds]
    rows = [
        [
            str(engine.ppe.path.name),
            "x".join(map(str, engine.ppe.input_size)),
            statistics.median(raw[i]) if raw[i] else "-",
            medians[i],
            medians[i] / medians[0],
        ]
        for i, engine in enumerate(engines)
    ]
    if args.json:
        keys = ["model", "input", "raw_ms", "engine_ms", "vs_first"]
        for row in rows:
            print(json.dumps(figures(dict(zip(keys, row, strict=True)))))
        return EXIT_OK
    print(f"{len(images)} images, {3 * per_round} runs per model in 3 rounds, smoking stage included")
    print(format_table(["PPE model", "input", "session.run ms", "engine ms/frame", "vs first"], rows))
    return EXIT_OK


def _bench_ui(args: argparse.Namespace) -> int:
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


def _bench_analysis(args: argparse.Namespace) -> int:
    """``bench --analysis``: a seeded year of ``--stored`` events, the analysis timed, planted findings
    checked (exit 1 if one is missed or an unplanted one found)."""
    from api.bench_analysis import Plan, bench_analysis

    result = bench_analysis(plan=Plan(events=args.stored), runs=3)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(["measure", "value"], [[k, v] for k, v in result.items()]))
    return EXIT_OK if not result["problems"] else 1


def _bench_alerts(args: argparse.Namespace) -> int:
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


def _bench_api(args: argparse.Namespace) -> int:
    """``bench --api``: ingest rate and listing latency, on SQLite or ``--database-url``."""
    from api.bench import bench_api

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


def _bench_cameras(args: argparse.Namespace, config: Config) -> int:
    """``bench --cameras N...``: the whole worker on N copies of the demo video, per N."""
    from detector.engine import Engine
    from sitewatch.bench.worker import bench_worker, engine_fps, rss_mb
    from sitewatch.config import CameraConfig
    from sitewatch.edge import build_worker
    from streams.sinks import MemorySink

    engine = Engine(config.engine_settings())
    rate = engine_fps(engine, args.video)
    results = []
    for count in args.cameras:
        cameras = {f"cam{i}": CameraConfig(url=str(args.video), loop=True) for i in range(count)}
        always = {"armed": "always"}
        rules = config.rules.model_copy(
            update={kind: getattr(config.rules, kind).model_copy(update=always) for kind in PERSON_KINDS}
        )
        run_config = config.model_copy(update={"cameras": cameras, "rules": rules})
        base = rss_mb()
        sink = MemorySink()
        worker = build_worker(run_config, sink=sink, engine=engine)
        results.append(
            bench_worker(
                worker,
                sink,
                engine_rate=rate,
                base_rss=base,
                warmup_s=5.0,
                duration_s=args.seconds,
                progress=not args.json,
            )
        )
    if args.json:
        for result in results:
            print(json.dumps(result.to_json()))
        return EXIT_OK
    print(
        f"engine alone: {rate:.1f} frames/s (PPE engine, one frame at a time); {args.seconds:.0f} s per run"
    )
    rows = [
        [
            r.cameras,
            r.demand_fps,
            r.fps_total,
            r.ratio,
            r.ratio_of_capacity,
            r.ratio_of_engine_work,
            r.latency_p95_ms,
            r.latency_samples,
            r.dropped,
            r.rss_mb_per_camera,
        ]
        for r in results
    ]
    print(
        format_table(
            [
                "cameras",
                "demand fps",
                "fps total",
                "/engine",
                "/capacity",
                "/engine work",
                "p95 latency ms",
                "events",
                "dropped",
                "MB/camera",
            ],
            rows,
        )
    )
    stages = sorted({k for r in results for k in r.stages_ms})
    print(
        format_table(
            ["stage ms/frame", *(f"{r.cameras} cam" for r in results)],
            [[k, *(r.stages_ms.get(k, 0.0) for r in results)] for k in stages],
        )
    )
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``bench``."""
    p = sub.add_parser("bench", help="latency per stage of the detection engine vs the bare session")
    p.add_argument("--images", nargs="+", type=Path, default=[Path("configs/demo/images")])
    p.add_argument("--runs", type=int, default=100)
    p.add_argument(
        "--models", nargs="+", metavar="MODEL", help="compare the engine's time with each of these PPE models"
    )
    p.add_argument(
        "--runtimes",
        action="store_true",
        help="the engine on onnxruntime and OpenVINO, float and INT8 PPE model, interleaved",
    )
    p.add_argument("--float", default="ppe", help="with --runtimes: the float model (default ppe)")
    p.add_argument("--int8", default="ppe-int8", help="with --runtimes: the INT8 model (default ppe-int8)")
    p.add_argument("--config", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--cameras", nargs="+", type=int, metavar="N", help="run the whole worker on N file sources"
    )
    p.add_argument(
        "--video", type=Path, default=Path("configs/demo/site-demo.mp4"), help="source of --cameras"
    )
    p.add_argument("--seconds", type=float, default=30.0, help="measured time per --cameras run")
    p.add_argument("--api", action="store_true", help="measure the central API: ingest and listing")
    p.add_argument(
        "--alerts", action="store_true", help="measure notifications: dispatcher rate, event-to-case latency"
    )
    p.add_argument("--ui", action="store_true", help="measure the web UI and briefs at --stored events")
    p.add_argument(
        "--map-projects",
        type=int,
        default=1000,
        help="with --ui: projects on the district map (0: the map is not measured)",
    )
    p.add_argument(
        "--analysis", action="store_true", help="time the recurring-problem analysis on a seeded year"
    )
    p.add_argument("--deliveries", type=int, default=2000, help="with --alerts: notifications delivered")
    p.add_argument("--concurrency", type=int, default=8, help="with --alerts: requests in flight")
    p.add_argument("--cases", type=int, default=30, help="with --alerts: events timed to the case system")
    p.add_argument(
        "--database-url", action="append", help="with --api/--alerts: a database to measure (repeatable)"
    )
    p.add_argument("--events", type=int, default=1000, help="with --api: updates ingested over HTTP")
    p.add_argument("--stored", type=int, default=100_000, help="with --api/--ui/--analysis: events stored")
    p.add_argument(
        "--clients", type=int, default=64, help="with --api: concurrent ingest clients (edge boxes posting)"
    )
    p.add_argument("--port", type=int, default=18765, help="with --api: loopback port of the API")
    p.add_argument(
        "--api-workers", type=positive_int, default=2, help="with --api: API server processes (default 2)"
    )
    add_gpu_arguments(p)
    p.set_defaults(func=cmd_bench)
