"""``sitewatch bench gpu``: the PyTorch backend's detections per second by batch size, and video decoding
per stream size (see :mod:`sitewatch.bench.gpu`)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_images_and_runs,
    add_json,
    print_results,
    read_images,
)

if TYPE_CHECKING:
    from sitewatch.cli.common import Subparsers


def bench_gpu(args: argparse.Namespace) -> int:
    """Run the GPU benchmark as ``args`` say (``--device``, ``--batches``, ``--torchscript``, ``--runs``)."""
    import cv2

    from detector.backends.interface import BackendOptions
    from detector.backends.torch_runtime import TorchYolo, export_torchscript, torch_device
    from detector.modelfiles import resolve
    from sitewatch.bench.gpu import STREAMS, bench_batches, bench_decode

    images = read_images(args)
    if images is None:
        return EXIT_USAGE
    device = torch_device(args.device)
    with tempfile.TemporaryDirectory(prefix="sitewatch-ts-") as tmp:
        path: Path = args.torchscript
        if path is None:  # made from the shipped checkpoint (needs the train extra)
            weights = Path(tmp) / "ppe.pt"
            weights.write_bytes(resolve("ppe.pt").read_bytes())
            with contextlib.redirect_stdout(sys.stderr):  # ultralytics reports on stdout
                path = export_torchscript(weights, Path(tmp) / "ppe.torchscript")
        model = TorchYolo(path, BackendOptions(device=device))
        results = []
        for size in STREAMS.values():
            frames = [cv2.resize(img, size) for img in images]
            results += bench_batches(
                model, frames, batches=args.batches, runs=args.runs, device=device, progress=not args.json
            )
    columns = [
        ("device", "device"),
        ("frame", "frame"),
        ("batch", "batch"),
        ("detections/s", "detections_per_s"),
        ("ms/batch", "ms_per_batch"),
        ("preprocess ms", "preprocess_ms"),
        ("inference ms", "inference_ms"),
        ("postprocess ms", "postprocess_ms"),
    ]
    print_results(results, columns, as_json=args.json)
    decoding = bench_decode(images[0], progress=not args.json)
    columns = [("stream", "stream"), ("codec", "codec"), ("frames/s, one thread", "frames_per_s")]
    columns.append(("cameras at 25 fps per thread", "cameras_at_25fps"))
    return print_results(decoding, columns, as_json=args.json) or EXIT_OK


def add_bench_parser(bench: Subparsers) -> None:
    """Add ``bench gpu``."""
    p = bench.add_parser(
        "gpu",
        help="the PyTorch backend by batch size, and video decoding",
        description="The PyTorch (GPU) backend: detections per second by batch size for substream and 1080p "
        "frames, with the time of each stage; and video decoding per stream size on one thread.",
    )
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default cuda)")
    p.add_argument(
        "--batches",
        nargs="+",
        type=int,
        default=[1, 8, 32, 64],
        metavar="N",
        help="batch sizes to measure (default 1 8 32 64)",
    )
    p.add_argument(
        "--torchscript",
        type=Path,
        metavar="PATH",
        help="a .torchscript model (default: exported from ppe.pt, which needs the train extra)",
    )
    add_images_and_runs(p)
    add_json(p)
    p.set_defaults(func=bench_gpu)


def cmd_export_torchscript(args: argparse.Namespace) -> int:
    """Write the ``.torchscript`` build of a ``.pt`` checkpoint that the GPU backend runs."""
    from detector.backends.torch_runtime import export_torchscript
    from detector.modelfiles import resolve

    weights = resolve(args.weights)
    with contextlib.redirect_stdout(sys.stderr):  # ultralytics reports on stdout
        out = export_torchscript(weights, args.out, imgsz=args.imgsz)
    print(out)
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``export-torchscript``."""
    p = sub.add_parser("export-torchscript", help="build the TorchScript model the GPU backend runs")
    p.add_argument("weights", nargs="?", default="ppe.pt", help="a .pt checkpoint or alias (default ppe.pt)")
    p.add_argument("--out", type=Path, help="the file to write (default: beside the weights)")
    p.add_argument("--imgsz", type=int, default=640)
    p.set_defaults(func=cmd_export_torchscript)
