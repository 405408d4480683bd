"""The ``sitewatch`` command.

Each subcommand is a small function that parses nothing itself: ``build_parser`` declares the options,
the function does the work and returns the exit status (0 ok, 1 some input failed, 2 bad usage or
configuration).

One module per group of commands: ``detection`` (detect, eval), ``training`` (train, quantize, data),
``faces``, ``serve`` (worker, run, api), ``bench`` (with ``bench_edge``, ``bench_central``, ``bench_gpu``),
``report``, ``evidence`` (transcode-clips), ``check_config``; ``common`` holds what they share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sitewatch.cli import bench, bench_gpu, check_config, detection, evidence, faces, report, serve, training
from sitewatch.cli.common import EXIT_USAGE
from sitewatch.yamlpos import ConfigError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sitewatch", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default: WARNING; for worker, the configuration's log_level (INFO)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    detection.add_parsers(sub)
    faces.add_parsers(sub)
    training.add_parsers(sub)
    bench.add_parsers(sub)
    bench_gpu.add_parsers(sub)
    serve.add_parsers(sub)
    report.add_parsers(sub)
    evidence.add_parsers(sub)
    check_config.add_parsers(sub)
    return parser


def command_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with the old spellings of a command in today's (``bench --api`` is ``bench api``: see
    :func:`sitewatch.cli.bench.subcommand_argv`).

    Example:
        >>> command_argv(["--log-level", "INFO", "bench", "--json"])
        ['--log-level', 'INFO', 'bench', 'engine', '--json']
    """
    argv = list(argv)
    at = 0
    while at < len(argv) and argv[at].startswith("-"):  # the options before the command
        at += 2 if argv[at] == "--log-level" else 1
    if at < len(argv) and argv[at] == "bench":
        return [*argv[: at + 1], *bench.subcommand_argv(argv[at + 1 :], ["sitewatch", *argv[: at + 1]])]
    return argv


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` by default) parsed, old spellings included; an option that the
    command does not take is a usage error that names the command (each benchmark takes only its own)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(command_argv(sys.argv[1:] if argv is None else argv))
    if unknown:
        command = " ".join(name for name in (args.command, getattr(args, "benchmark", None)) if name)
        parser.error(
            f"'sitewatch {command}' does not take {' '.join(unknown)} (see: sitewatch {command} --help)"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sitewatch`` command."""
    from detector.face_gallery import EnrollmentError
    from detector.modelfiles import ModelFileError
    from sitewatch.logsetup import setup_logging

    args = parse_args(argv)
    setup_logging(args.log_level or "WARNING")
    try:
        status: int = args.func(args)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ModelFileError, EnrollmentError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return status
