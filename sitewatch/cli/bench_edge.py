"""The edge's benchmarks behind ``sitewatch bench``: the engine on each runtime (``bench runtimes``) and
with each PPE model (``bench models``), and the whole worker on N cameras (``bench cameras``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detector.kinds import PERSON_KINDS
from sitewatch.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_config,
    add_images_and_runs,
    add_json,
    config_or_default,
    positive_int,
    read_images,
)
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from detector.smoking import SmokingScheduler
    from sitewatch.cli.common import Subparsers
    from sitewatch.config import Config


def run_runtimes_bench(args: argparse.Namespace, config: Config, images: list[Any]) -> int:
    """``sitewatch bench runtimes``: onnxruntime / OpenVINO, float / INT8 PPE model, interleaved."""
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


def run_models_bench(
    args: argparse.Namespace, config: Config, images: list[Any], scheduler: SmokingScheduler
) -> int:
    """``sitewatch bench models A B``: the engine's time per frame with each PPE model, in one run.

    The models take turns in three rounds, so that load on the machine falls on each alike; the table
    gives each model's median over the rounds and its cost relative to the first model.
    """
    import dataclasses
    import statistics

    from detector.engine import Engine
    from detector.evaluation.figures import figures
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


def run_cameras_bench(args: argparse.Namespace, config: Config) -> int:
    """``bench cameras N...``: the whole worker on N copies of the demo video, per N."""
    from detector.engine import Engine
    from sitewatch.bench.worker import bench_worker, engine_fps, prepare_streams, rss_mb
    from sitewatch.config import CameraConfig
    from sitewatch.edge import build_worker
    from streams.sinks import MemorySink

    engine = Engine(config.engine_settings())
    main = sub = None
    if args.substream or args.full_size:
        main, sub = prepare_streams(args.video, args.streams_dir, fps=args.fps)
    # The engine alone on the frames the cameras detect on: the substream's, the 1080p stream's or the
    # video's own (their size decides the model input, see models.ppe_wide).
    detected = sub if args.substream and sub is not None else (main or args.video)
    rate = engine_fps(engine, detected)
    results = []
    for count in args.cameras:
        if args.substream:
            camera = CameraConfig(url=str(main), detect_url=str(sub), loop=True)
        else:
            camera = CameraConfig(url=str(main or args.video), loop=True)
        cameras = {f"cam{i}": camera for i in range(count)}
        always = {"armed": "always"}
        rules = config.rules.model_copy(
            update={kind: getattr(config.rules, kind).model_copy(update=always) for kind in PERSON_KINDS}
        )
        run_config = config.model_copy(update={"cameras": cameras, "rules": rules})
        if args.no_motion_gate:
            motion = config.motion.model_copy(update={"enabled": False})
            run_config = run_config.model_copy(update={"motion": motion})
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
    mode = (
        f"1920x1080 main stream kept, 640x360 substream decoded, {args.fps} fps each"
        if args.substream
        else f"one 1920x1080 stream decoded whole, {args.fps} fps"
        if args.full_size
        else f"one stream ({args.video.name})"
    )
    gate = "motion gate off" if args.no_motion_gate else "motion gate on"
    print(
        f"engine alone: {rate:.1f} frames/s (PPE engine, one frame at a time; wall clock, under whatever "
        f"else the box runs); {args.seconds:.0f} s per run; cameras: {mode}; {gate}"
    )
    rows = [
        [
            r.cameras,
            r.demand_fps,
            r.fps_total,
            r.looks_per_camera,
            r.ratio,
            r.ratio_of_capacity,
            r.ratio_of_engine_work,
            r.latency_p95_ms,
            r.latency_samples,
            r.dropped,
            r.motion_skipped,
            r.rss_mb_per_camera,
            r.cpu_cores if r.cpu_cores is not None else "-",
        ]
        for r in results
    ]
    print(
        format_table(
            [
                "cameras",
                "demand fps",
                "fps total",
                "looks/s per camera",
                "/engine",
                "/capacity",
                "/engine work",
                "p95 latency ms",
                "events",
                "dropped",
                "still",
                "MB/camera",
                "CPU cores",
            ],
            rows,
        )
    )
    print("CPU seconds per minute (thread CPU time, not wall clock):")
    print(
        format_table(
            [
                "cameras",
                "looks/s",
                "demanded",
                "read fps /camera",
                "decode /camera",
                "decode ms/frame",
                "main stream /camera",
                "motion gate",
                "inference etc.",
                "per look",
                "decoded/read",
                "main offset p95 ms",
                "main KB kept",
            ],
            [
                [
                    r.cameras,
                    r.fps_total,
                    r.demand_fps,
                    r.cpu.read_fps_per_camera if r.cpu else "-",
                    r.cpu.decode_s_per_camera_min if r.cpu else "-",
                    r.cpu.decode_ms_per_frame if r.cpu else "-",
                    r.cpu.main_s_per_camera_min if r.cpu else "-",
                    r.cpu.motion_s_per_min if r.cpu else "-",
                    r.cpu.inference_s_per_min if r.cpu else "-",
                    r.cpu.inference_s_per_look if r.cpu else "-",
                    r.decoded_share if r.decoded_share is not None else "-",
                    r.main_offset_ms_p95 if r.main_offset_ms_p95 is not None else "-",
                    r.main_ring_kb if r.main_ring_kb is not None else "-",
                ]
                for r in results
            ],
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


def cmd_models(args: argparse.Namespace) -> int:
    """``bench models``: the engine with each PPE model, on the images of ``--images``."""
    config = config_or_default(args.config)
    images = read_images(args)
    if images is None:
        return EXIT_USAGE
    return run_models_bench(args, config, images, config.smoking.scheduler())


def cmd_runtimes(args: argparse.Namespace) -> int:
    """``bench runtimes``: each runtime and precision, on the images of ``--images``."""
    config = config_or_default(args.config)
    images = read_images(args)
    return EXIT_USAGE if images is None else run_runtimes_bench(args, config, images)


def cmd_cameras(args: argparse.Namespace) -> int:
    """``bench cameras N...``: the whole worker on N file sources."""
    return run_cameras_bench(args, config_or_default(args.config))


def add_parsers(bench: Subparsers) -> None:
    """Add ``bench models``, ``bench runtimes`` and ``bench cameras``."""
    p = bench.add_parser(
        "models",
        help="the engine's time per frame with each PPE model, in turns",
        description="The engine's time per frame with each PPE model, taking turns in one run (three "
        "rounds), relative to the first.",
    )
    p.add_argument(
        "models", nargs="+", metavar="MODEL", help="PPE models (alias or path), the first the base"
    )
    add_images_and_runs(p)
    add_config(p)
    add_json(p)
    p.set_defaults(func=cmd_models)

    p = bench.add_parser(
        "runtimes",
        help="the engine on onnxruntime and OpenVINO, float and INT8, in turns",
        description="The engine on onnxruntime and OpenVINO (when installed), with the float and the INT8 "
        "PPE model, taking turns frame by frame; without the smoking stage.",
    )
    p.add_argument("--float", default="ppe", metavar="MODEL", help="the float model (default ppe)")
    p.add_argument("--int8", default="ppe-int8", metavar="MODEL", help="the INT8 model (default ppe-int8)")
    add_images_and_runs(p)
    add_config(p)
    add_json(p)
    p.set_defaults(func=cmd_runtimes)

    p = bench.add_parser(
        "cameras",
        help="the whole worker on N copies of a video, for each N",
        description="N copies of a video (the demo's) through the whole worker, for each N: throughput "
        "against the engine alone, per-stage time, event latency, memory per camera.",
    )
    p.add_argument("cameras", nargs="+", type=positive_int, metavar="N", help="numbers of cameras to run")
    p.add_argument(
        "--video",
        type=Path,
        default=Path("configs/demo/site-demo.mp4"),
        metavar="FILE",
        help="the source of every camera (default configs/demo/site-demo.mp4)",
    )
    p.add_argument(
        "--seconds", type=float, default=30.0, metavar="S", help="measured time per run (default 30)"
    )
    p.add_argument(
        "--substream",
        action="store_true",
        help="each camera a 1920x1080 main stream (kept for snapshots) and a 640x360 substream (decoded "
        "for detection), made from the video once (--streams-dir)",
    )
    p.add_argument(
        "--full-size",
        action="store_true",
        help="each camera one 1920x1080 stream of the video, decoded whole (today's single-stream camera, "
        "to compare with --substream)",
    )
    p.add_argument(
        "--no-motion-gate",
        action="store_true",
        help="detect every sampled frame, as on a busy site (the worst case, for sizing); by default the "
        "configuration's motion gate skips still scenes and their decoding",
    )
    p.add_argument("--fps", type=positive_int, default=25, help="frame rate of the made streams (default 25)")
    p.add_argument(
        "--streams-dir",
        type=Path,
        default=Path.home() / ".cache" / "sitewatch" / "bench-streams",
        metavar="DIR",
        help="where the made streams are kept (default ~/.cache/sitewatch/bench-streams)",
    )
    add_config(p)
    add_json(p)
    p.set_defaults(func=cmd_cameras)
