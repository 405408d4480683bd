"""``sitewatch check-config``: validate a configuration file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_OK

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from sitewatch.cli.common import Subparsers


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a configuration file without starting anything."""
    from sitewatch.config import load_config

    config = load_config(args.file)
    cameras = (
        ", ".join(
            f"{name} (main stream and substream)" if camera.detect_url else name
            for name, camera in config.cameras.items()
        )
        or "none"
    )
    print(f"{args.file}: valid (site {config.site.id}, cameras: {cameras})")
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``check-config``."""
    p = sub.add_parser("check-config", help="validate a configuration file")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_check_config)
