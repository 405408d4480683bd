"""The ``sitewatch`` command.

Each subcommand is a small function that parses nothing itself: ``build_parser`` declares the options,
the function does the work and returns the exit status (0 ok, 1 some input failed, 2 bad usage or
configuration).

The commands live in this package's modules (:mod:`sitewatch.cli.parser` lists them).
"""

from sitewatch.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
