"""``sitewatch bench``: every benchmark's front-end, one sub-command each (``sitewatch bench api``,
``sitewatch bench cameras 1 4 8``...), each taking only its own options and printing its figures the same
way (a table, or one JSON object per line with ``--json``).

Without a sub-command it measures the engine per stage (``engine``); the edge's other benchmarks are in
:mod:`sitewatch.cli.bench_edge`, the central side's in :mod:`sitewatch.cli.bench_central`, the GPU's in
:mod:`sitewatch.cli.bench_gpu`. The flags that chose a benchmark before (``sitewatch bench --api``...) still
work for one release: :func:`subcommand_argv` turns them into the sub-command, with one deprecation line
on standard error."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sitewatch.cli import bench_central, bench_edge, bench_gpu
from sitewatch.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_config,
    add_images_and_runs,
    add_json,
    config_or_default,
    read_images,
)
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from sitewatch.cli.common import Subparsers

#: The flags that chose a benchmark before the sub-commands, by precedence (the first given wins; any
#: other is then an unknown option of that sub-command), each with its sub-command.
LEGACY_FLAGS = {
    "--gpu": "gpu",
    "--api": "api",
    "--analysis": "analysis",
    "--alerts": "alerts",
    "--ui": "ui",
    "--cameras": "cameras",
    "--runtimes": "runtimes",
    "--models": "models",
}
#: The legacy flags whose values become the sub-command's positional arguments.
LEGACY_WITH_VALUES = {"--cameras", "--models"}
#: The sub-command of a plain ``sitewatch bench``.
DEFAULT = "engine"


def subcommand_argv(args: Sequence[str], before: Sequence[str] = ("sitewatch", "bench")) -> list[str]:
    """The arguments after ``bench`` in the sub-command form: a legacy flag (``--api``, ``--cameras 1 4``)
    becomes its sub-command (``api``, ``cameras 1 4``), reported by one line on standard error that gives
    the command to use (``before`` and the new arguments); options without a sub-command are the
    engine's. Anything else is left as it is, for argparse to judge.

    Example:
        >>> subcommand_argv(["--runs", "3", "--json"])
        ['engine', '--runs', '3', '--json']
        >>> subcommand_argv(["cameras", "1", "4", "--seconds", "5"])
        ['cameras', '1', '4', '--seconds', '5']
    """
    args = list(args)
    if not args:
        return [DEFAULT]
    if not args[0].startswith("-") or args[0] in ("-h", "--help"):
        return args
    given = [i for i, arg in enumerate(args) if arg.split("=", 1)[0] in LEGACY_FLAGS]
    if not given:
        return [DEFAULT, *args]
    at = min(given, key=lambda i: list(LEGACY_FLAGS).index(args[i].split("=", 1)[0]))
    flag, _, inline = args[at].partition("=")
    end = at + 1
    values = [inline] if inline else []
    if flag in LEGACY_WITH_VALUES and not inline:
        while end < len(args) and not args[end].startswith("-"):
            end += 1
        values = args[at + 1 : end]
    new = [LEGACY_FLAGS[flag], *values, *args[:at], *args[end:]]
    print(
        f"sitewatch: 'bench {flag}' is deprecated and will be removed in the next release; "
        f"use: {shlex.join([*before, *new])}",
        file=sys.stderr,
    )
    return new


def cmd_bench(args: argparse.Namespace) -> int:
    """``bench`` or ``bench engine``: the detection engine per stage next to the bare onnxruntime session."""
    import onnxruntime as ort

    from detector.engine import Engine
    from sitewatch.bench.engine import LOOKS_PER_S, bench_engine

    config = config_or_default(args.config)
    images = read_images(args)
    if images is None:
        return EXIT_USAGE
    scheduler = config.smoking.scheduler()
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
            f"{scheduler.recheck_s:g} s at {LOOKS_PER_S:g} looks/s, at most {scheduler.max_per_frame} per "
            "frame)"
        )
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``bench`` and its sub-commands: ``engine`` here, the others beside their commands."""
    p = sub.add_parser(
        "bench",
        help="benchmarks: the engine (default), models, runtimes, gpu, cameras, live, api, alerts, ui, "
        "analysis, stats",
        description=(
            "Every benchmark of the product, one sub-command each; each takes only its own options "
            "(sitewatch bench BENCHMARK --help). Without a sub-command, 'engine': sitewatch bench "
            "[--images PATH...] [--runs N] [--config FILE] [--json]. The flags of before (--api, "
            "--cameras N..., --gpu...) still work for one release and name the sub-command that replaces "
            "them."
        ),
    )
    bench = p.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    p = bench.add_parser(
        "engine",
        help="the engine per stage next to the bare session.run (the default)",
        description="Latency per stage of the detection engine next to the bare session.run of the same "
        "model (what a plain 'sitewatch bench' runs).",
    )
    add_images_and_runs(p)
    add_config(p)
    add_json(p)
    p.set_defaults(func=cmd_bench)
    bench_edge.add_parsers(bench)
    bench_gpu.add_bench_parser(bench)
    bench_central.add_parsers(bench)
