"""``sitewatch transcode-clips``: the API's stored event clips that browsers cannot play, as H.264."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:  # annotations only: commands import what they need when they run
    from sitewatch.cli.common import Subparsers


def cmd_transcode_clips(args: argparse.Namespace) -> int:
    """Transcode every stored clip in a codec browsers do not play (the ``mp4v`` older edge boxes wrote) to
    H.264, once; the API would do it on each clip's first request."""
    from api.core.db import make_engine, migrate, session_factory
    from api.core.settings import ApiSettings
    from api.events.evidence import transcode_stored_clips
    from api.storage import open_store

    settings = ApiSettings.from_env(data_dir=args.data_dir)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with session_factory(engine)() as session:
            result = transcode_stored_clips(
                session, store=open_store(settings), actor="sitewatch transcode-clips"
            )
    finally:
        engine.dispose()
    print(f"clips: {result.checked} checked, {result.transcoded} transcoded to H.264, {result.failed} failed")
    return EXIT_FAILED if result.failed else EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``transcode-clips``."""
    p = sub.add_parser(
        "transcode-clips", help="make the API's stored event clips playable in browsers (H.264)"
    )
    p.add_argument(
        "--data-dir", type=Path, help="the API's data folder (default: $SITEWATCH_DATA_DIR or data)"
    )
    p.set_defaults(func=cmd_transcode_clips)
