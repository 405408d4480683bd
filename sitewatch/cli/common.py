"""What the ``sitewatch`` commands share: exit codes, the logger, the configuration or its defaults,
image paths, the options that several benchmarks take and how benchmark figures are printed."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitewatch.tables import format_table

if TYPE_CHECKING:  # the configuration pulls in the detector; commands import it when they run
    from sitewatch.config import Config

    #: ``parser.add_subparsers()``, where each command module adds its commands.
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

logger = logging.getLogger("sitewatch")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def config_or_default(path: Path | None) -> Config:
    """The configuration at ``path``, or the defaults for a site named ``default``."""
    from sitewatch.config import Config, load_config

    return load_config(path) if path else Config.model_validate({"site": {"id": "default"}})


def image_paths(items: Sequence[Path]) -> list[Path]:
    """The files named, with the images under each folder named (sorted)."""
    from detector.training.dataset import IMAGE_SUFFIXES

    paths: list[Path] = []
    for item in items:
        if item.is_dir():
            paths += sorted(p for p in item.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(item)
    return paths


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def print_results(results: Sequence[Any], columns: list[tuple[str, str]], *, as_json: bool) -> int:
    """Benchmark results as one JSON object per line, or a table of ``(header, attribute)`` columns."""
    if as_json:
        for result in results:
            print(json.dumps(result.to_json()))
    else:
        print(format_table([h for h, _ in columns], [[getattr(r, a) for _, a in columns] for r in results]))
    return EXIT_OK


def read_images(args: argparse.Namespace) -> list[Any] | None:
    """The readable images of ``--images`` (BGR arrays), or ``None`` (logged) when there are none."""
    import cv2

    images = [img for img in (cv2.imread(str(p)) for p in image_paths(args.images)) if img is not None]
    if not images:
        logger.error("no readable images among %s", ", ".join(map(str, args.images)))
        return None
    return images


def add_images_and_runs(p: argparse.ArgumentParser) -> None:
    """A benchmark's ``--images`` (read by :func:`read_images`) and ``--runs``."""
    p.add_argument(
        "--images",
        nargs="+",
        type=Path,
        default=[Path("configs/demo/images")],
        metavar="PATH",
        help="images, or folders of them (default configs/demo/images)",
    )
    p.add_argument("--runs", type=int, metavar="N", default=100, help="frames measured (default 100)")


def add_config(p: argparse.ArgumentParser) -> None:
    """A benchmark's ``--config``, read by :func:`config_or_default`."""
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the site configuration to run with (default: the defaults)",
    )


def add_json(p: argparse.ArgumentParser) -> None:
    """A benchmark's ``--json``, which :func:`print_results` follows."""
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
