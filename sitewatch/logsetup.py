"""Logging for the command line: one format, to standard error."""

from __future__ import annotations

import logging


def setup_logging(level: str = "INFO") -> None:
    """Send log records to standard error as ``time level logger: message``."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
