"""``sitewatch bench``: every benchmark's front-end, each printing its figures the same way (a table, or
one JSON object per line with ``--json``).

The default measures the engine per stage; the edge's other benchmarks are in
:mod:`sitewatch.cli.bench_edge`, the central side's in :mod:`sitewatch.cli.bench_central`, the GPU's in
:mod:`sitewatch.cli.bench_gpu`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.bench_central import run_alerts_bench, run_analysis_bench, run_api_bench, run_ui_bench
from sitewatch.cli.bench_edge import run_cameras_bench, run_models_bench, run_runtimes_bench
from sitewatch.cli.bench_gpu import add_arguments as add_gpu_arguments
from sitewatch.cli.bench_gpu import bench_gpu
from sitewatch.cli.common import EXIT_OK, EXIT_USAGE, config_or_default, image_paths, logger, positive_int
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from sitewatch.cli.common import Subparsers


def cmd_bench(args: argparse.Namespace) -> int:
    """Time the detection engine per stage next to the bare onnxruntime session."""
    import cv2
    import onnxruntime as ort

    from detector.engine import Engine
    from sitewatch.bench.engine import bench_engine

    if args.gpu:
        return bench_gpu(args)
    if args.api:
        return run_api_bench(args)
    if args.analysis:
        return run_analysis_bench(args)
    if args.alerts:
        return run_alerts_bench(args)
    if args.ui:
        return run_ui_bench(args)
    config = config_or_default(args.config)
    if args.cameras:
        return run_cameras_bench(args, config)
    paths = image_paths(args.images)
    images = [img for img in (cv2.imread(str(p)) for p in paths) if img is not None]
    if not images:
        logger.error("no readable images among %s", ", ".join(map(str, args.images)))
        return EXIT_USAGE
    scheduler = config.smoking.scheduler()
    if args.runtimes:
        return run_runtimes_bench(args, config, images)
    if args.models:
        return run_models_bench(args, config, images, scheduler)
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
