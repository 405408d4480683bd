"""``sitewatch bench``: one sub-command per benchmark, each taking only its own options. The flags that
chose a benchmark before still parse, to the same sub-command and options, with one deprecation line.

Parsing only: the benchmarks themselves are slow (``tests/sitewatch/test_cli.py`` runs a few).
"""

from __future__ import annotations

import pytest

from sitewatch.cli.bench import LEGACY_FLAGS
from sitewatch.cli.parser import parse_args

#: An old command line and the new one it stands for, written in the order the deprecation line gives.
OLD_AND_NEW = [
    (
        "bench --api --database-url sqlite:///a.db --database-url postgresql://h/db --events 20 --stored 200 "
        "--clients 2 --api-workers 3 --port 9 --json",
        "bench api --database-url sqlite:///a.db --database-url postgresql://h/db --events 20 --stored 200 "
        "--clients 2 --api-workers 3 --port 9 --json",
    ),
    (
        "bench --alerts --deliveries 40 --concurrency 4 --cases 3 --database-url sqlite:///a.db --port 9",
        "bench alerts --deliveries 40 --concurrency 4 --cases 3 --database-url sqlite:///a.db --port 9",
    ),
    (
        "bench --ui --stored 50 --cases 5 --map-projects 0 --port 9 --json",
        "bench ui --stored 50 --cases 5 --map-projects 0 --port 9 --json",
    ),
    ("bench --analysis --stored 300 --json", "bench analysis --stored 300 --json"),
    (
        "bench --gpu --device cpu --batches 1 2 --torchscript m.torchscript --images a.jpg --runs 2 --json",
        "bench gpu --device cpu --batches 1 2 --torchscript m.torchscript --images a.jpg --runs 2 --json",
    ),
    (
        "bench --runtimes --float ppe --int8 q.onnx --images photos --runs 5 --config c.yaml",
        "bench runtimes --float ppe --int8 q.onnx --images photos --runs 5 --config c.yaml",
    ),
    (
        "bench --models ppe b.onnx --runs 9 --images x.jpg y.jpg --json",
        "bench models ppe b.onnx --runs 9 --images x.jpg y.jpg --json",
    ),
    (
        "bench --cameras 1 4 8 --seconds 4 --video v.mp4 --config c.yaml --json",
        "bench cameras 1 4 8 --seconds 4 --video v.mp4 --config c.yaml --json",
    ),
    # The flag after other options, with its value after "=", and after the command's own options.
    ("bench --json --cameras 2 --seconds 1", "bench cameras 2 --json --seconds 1"),
    ("bench --cameras=3", "bench cameras 3"),
    ("--log-level INFO bench --runs 7 --models ppe", "--log-level INFO bench models ppe --runs 7"),
]


@pytest.mark.parametrize(("old", "new"), OLD_AND_NEW, ids=[old for old, _ in OLD_AND_NEW])
def test_an_old_flag_parses_as_its_sub_command_with_one_deprecation_line(
    old: str, new: str, capsys: pytest.CaptureFixture[str]
) -> None:
    new_args = parse_args(new.split())
    assert capsys.readouterr().err == ""
    old_args = parse_args(old.split())
    assert vars(old_args) == vars(new_args)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "deprecated" in err, err
    assert err.rstrip("\n").endswith(f"use: sitewatch {new}")


def test_the_table_covers_every_old_flag() -> None:
    flags = {arg.split("=")[0] for old, _ in OLD_AND_NEW for arg in old.split()}
    assert set(LEGACY_FLAGS) <= flags


@pytest.mark.parametrize(
    ("plain", "engine"),
    [("bench", "bench engine"), ("bench --runs 3 --json", "bench engine --runs 3 --json")],
)
def test_plain_bench_is_the_engine_benchmark_without_a_warning(
    plain: str, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse_args(plain.split())
    assert args.benchmark == "engine" and vars(args) == vars(parse_args(engine.split()))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("argv", "command", "option"),
    [
        ("bench cameras 1 --deliveries 5", "bench cameras", "--deliveries 5"),
        ("bench api --images x.jpg", "bench api", "--images x.jpg"),
        ("bench gpu --config c.yaml", "bench gpu", "--config c.yaml"),
        ("bench analysis --port 9", "bench analysis", "--port 9"),
        ("bench engine --seconds 3", "bench engine", "--seconds 3"),
        ("bench ui --map-projects 5 --clients 2", "bench ui", "--clients 2"),
        # Two old flags: the first by precedence is the sub-command, and the other is not its option.
        ("bench --cameras 1 --gpu", "bench gpu", "--cameras 1"),
    ],
)
def test_a_sub_command_rejects_another_sub_commands_option(
    argv: str, command: str, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv.split())
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"error: 'sitewatch {command}' does not take {option}" in err
    assert f"sitewatch {command} --help" in err


@pytest.mark.parametrize(
    "name",
    ["engine", "models", "runtimes", "gpu", "cameras", "live", "api", "alerts", "ui", "analysis", "stats"],
)
def test_every_sub_command_has_its_own_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["bench", name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: sitewatch bench {name} ") and "--json" in out
    assert "with --" not in out  # no option is another benchmark's any more
