"""The ``sitewatch`` command, run as users run it: a subprocess with arguments and an exit status."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT
from tests.streams.rtsp import free_port

PPE_IMAGES = sorted((DATA / "ppe" / "images").glob("*.jpg"))


def sitewatch(
    *args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitewatch.cli", *map(str, args)],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_detect_reports_bad_images_and_still_processes_the_others(tmp_path: Path) -> None:
    unreadable = tmp_path / "broken.jpg"
    unreadable.write_text("not a jpeg")
    missing = tmp_path / "missing.jpg"
    out = tmp_path / "annotated"
    result = sitewatch("detect", unreadable, PPE_IMAGES[0], missing, PPE_IMAGES[1], "--json", "--save", out)
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == list(
        map(str, [unreadable, PPE_IMAGES[0], missing, PPE_IMAGES[1]])
    )
    assert lines[0]["error"] == "not a readable image" and lines[2]["error"] == "no such file"
    for good in (lines[1], lines[3]):
        assert good["people"] and {"helmet", "vest", "smoking", "violations"} <= set(good["people"][0])
        assert good["timings_ms"]["inference"] > 0
    assert "broken.jpg: not a readable image" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.stem + ".jpg" for p in PPE_IMAGES[:2])


def test_detect_prints_a_table_with_violations() -> None:
    result = sitewatch("detect", ROOT / "configs" / "demo" / "images" / "site-1.jpg")
    assert result.returncode == 0, result.stderr
    assert "violations" in result.stdout and "no_helmet" in result.stdout


def test_a_missing_model_in_the_configuration_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"site: {{id: x}}\nmodels: {{ppe: {tmp_path / 'gone.onnx'}}}\n")
    result = sitewatch("detect", PPE_IMAGES[0], "--config", config)
    assert result.returncode == 2
    assert "gone.onnx is missing" in result.stderr


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("site: {id: demo}\n", 0, "valid (site demo"),
        (
            "site: {id: demo}\ncameras:\n  gate: {url: x, fps: 5}\n",
            2,
            "c.yaml:3: cameras.gate.fps: unknown key",
        ),
        (
            "site: {id: demo}\nschedule:\n  days: []\n",
            2,
            "c.yaml:3: schedule.days: Value error, no working day",
        ),
    ],
)
def test_check_config(tmp_path: Path, text: str, status: int, message: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(text)
    result = sitewatch("check-config", config)
    assert result.returncode == status
    assert message in (result.stdout + result.stderr)


def test_eval_json(tmp_path: Path) -> None:
    result = sitewatch("eval", DATA / "ppe", "--model", "ppe", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["images"] == len(PPE_IMAGES)
    assert set(summary["per_class"]) == {"person", "helmet", "no_helmet", "vest", "no_vest"}
    assert 0 < summary["map50"] <= 1 and summary["map50_95"] < summary["map50"]


def test_faces_enroll_and_match(shared_dir: Path, tmp_path: Path) -> None:
    faces = shared_dir / "datasets" / "faces"
    people = tmp_path / "people"
    shutil.copytree(faces / "train", people)
    shutil.copyfile(
        faces / "test" / "obama_and_biden.jpg", people / "biden" / "group.jpg"
    )  # must be rejected
    gallery = tmp_path / "officers.npz"
    result = sitewatch("faces", "enroll", people, "--gallery", gallery)
    assert result.returncode == 1  # one photo rejected, the others enrolled
    assert "group.jpg: 3 faces found" in result.stderr
    assert gallery.exists() and "5 people" in result.stdout

    result = sitewatch(
        "faces",
        "match",
        faces / "test" / "obama1.jpg",
        faces / "test" / "alex_lacamoire1.jpg",
        "--gallery",
        gallery,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    names = [[f["name"] for f in json.loads(line)["faces"]] for line in result.stdout.splitlines()]
    assert names == [["obama"], ["alex_lacamoire"]]


def test_bench_json_reports_engine_and_raw_times() -> None:
    result = sitewatch("bench", "--runs", "3", "--json")
    assert result.returncode == 0, result.stderr
    bench = json.loads(result.stdout)
    assert bench["engine_ms"] > 0 and bench["raw_ms"] > 0
    # the model's own run is the engine's largest stage: a stage left untimed, or timed twice, shows here
    assert max(bench["stages_ms"], key=bench["stages_ms"].get) == "inference"
    assert {"preprocess", "inference", "postprocess", "association"} <= set(bench["stages_ms"])
    assert bench["smoking_ms_per_crop"] > 0 and bench["scene_people"] == 4


def test_bench_cameras_json() -> None:
    result = sitewatch("bench", "cameras", "1", "--seconds", "4", "--json")
    assert result.returncode == 0, result.stderr
    bench = json.loads(result.stdout)
    assert bench["cameras"] == 1 and bench["demand_fps"] == 5.0
    assert bench["fps_total"] > 0 and bench["engine_fps"] > 0
    # the worker looks at most at the demanded rate (5 fps per camera); more would mean frames looked at twice
    assert bench["fps_total"] <= bench["demand_fps"] * bench["cameras"] * 1.1
    assert {"inference", "pipeline"} <= set(bench["stages_ms"]) and bench["rss_mb_per_camera"] > 0


def test_run_watches_the_demo_video_and_opens_cases_at_the_demo_case_system(tmp_path: Path) -> None:
    api_port, receiver_port = free_port(), free_port()
    config = tmp_path / "demo.yaml"
    text = (
        (ROOT / "configs" / "demo.yaml")
        .read_text()
        .replace("url: configs/demo/site-demo.mp4", f"url: {ROOT / 'configs' / 'demo' / 'site-demo.mp4'}")
        .replace("8001", str(receiver_port))
    )
    config.write_text(text + f"data_dir: {tmp_path / 'data'}\n")
    result = sitewatch("run", "--config", config, "--duration", "25", "--port", api_port, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert f"http://127.0.0.1:{api_port}/docs" in result.stdout
    key = next(line.split()[2] for line in lines if line.strip().startswith("admin key"))
    assert key.startswith("sw_") and key not in result.stderr  # printed once, never logged
    assert any("no_helmet" in line and "start" in line for line in lines), result.stdout
    assert any(line.startswith("case system") and "case.created" in line for line in lines), result.stdout
    with sqlite3.connect(tmp_path / "data" / "sitewatch.db") as db:
        events = db.execute("SELECT COUNT(*), COUNT(snapshot_sha256) FROM events").fetchone()
        numbers = db.execute("SELECT external_id FROM cases").fetchall()
        cameras = db.execute("SELECT camera_id, thumbnail IS NOT NULL FROM camera_health").fetchall()
    assert events[0] >= 1 and events[0] == events[1]
    assert numbers and all(n[0] and n[0].startswith("DEMO-") for n in numbers)
    assert cameras == [("gate", 1)]  # health with the last frame's thumbnail
    assert "gate" in lines[-1]  # the health table closes the run


def test_bench_alerts_json(tmp_path: Path) -> None:
    result = sitewatch(
        "bench", "alerts", "--deliveries", "40", "--cases", "3", "--port", str(free_port()), "--json",
        env={"TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert list(tmp_path.glob("sitewatch-*")) == []  # its scratch folders are removed
    bench = json.loads(result.stdout)
    assert bench["deliveries"] == 40 and bench["deliveries_per_s"] > 0
    assert bench["events"] == 3 and 0 < bench["latency_median_ms"] <= bench["latency_p95_ms"]


def test_bench_api_json_on_two_server_processes(tmp_path: Path) -> None:
    result = sitewatch(
        "bench", "api", "--events", "20", "--stored", "200", "--clients", "2", "--api-workers", "2",
        "--port", str(free_port()), "--json", env={"TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    # Regression: each run left its database and 100 KB per event behind (38 GB here over many runs).
    assert list(tmp_path.glob("sitewatch-*")) == []
    bench = json.loads(result.stdout)
    assert bench["workers"] == 2 and bench["stored_events"] == 200 and bench["ingest_per_s"] > 0
    assert 0 < bench["list_median_ms"] <= bench["list_p95_ms"]
    assert bench["server_cpu_ms"] > 0 and bench["client_cpu_ms"] > 0  # Linux: /proc is there


def test_api_refuses_a_bad_alerts_configuration_by_key_and_line(tmp_path: Path) -> None:
    config = tmp_path / "central.yaml"
    config.write_text("alerts:\n  channels:\n    cs: {type: wecom}\n")
    result = sitewatch("api", "--config", config, "--data-dir", tmp_path / "data", "--port", str(free_port()))
    assert result.returncode == 2
    assert "central.yaml:3: alerts.channels.cs: Value error, a wecom channel needs a url" in result.stderr


def test_worker_refuses_an_api_gallery_without_an_api(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text("site: {id: demo}\nofficers: {from_api: true}\ncameras:\n  gate: {url: nowhere.mp4}\n")
    result = sitewatch("worker", "--config", config, "--duration", "1")
    assert result.returncode == 2
    assert "officers.from_api" in result.stderr and "sink.type must be http" in result.stderr


def test_run_says_which_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "demo.yaml"
        text = (ROOT / "configs" / "demo.yaml").read_text().replace("8001", str(port))
        config.write_text(text + f"data_dir: {tmp_path / 'data'}\n")
        result = sitewatch(
            "run", "--config", config, "--duration", "1", "--port", str(free_port()), cwd=tmp_path
        )
    assert result.returncode == 2
    assert f"alerts.demo_receiver.port: the demo case system cannot listen on port {port}" in result.stderr


@pytest.mark.parametrize(
    ("log_level", "arguments", "shown"),
    [
        ("", (), True),  # the configuration's default, INFO: the worker's events show
        ("log_level: WARNING\n", (), False),
        ("log_level: WARNING\n", ("--log-level", "INFO"), True),  # the command line wins
    ],
)
def test_worker_logs_at_the_configured_level(
    tmp_path: Path, log_level: str, arguments: tuple[str, ...], shown: bool
) -> None:
    """Regression (issue 13, finding 14): the worker ignored log_level and showed nothing at INFO."""
    config = tmp_path / "edge.yaml"
    config.write_text(
        f"site: {{id: demo}}\n{log_level}data_dir: {tmp_path / 'data'}\n"
        f"cameras:\n  gate: {{url: {ROOT / 'configs' / 'demo' / 'site-demo.mp4'}, loop: true}}\n"
    )
    result = sitewatch(*arguments, "worker", "--config", config, "--duration", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("INFO streams.worker: worker started with 1 cameras" in result.stderr) is shown


@pytest.mark.parametrize(
    ("in_config", "env", "where"),
    [
        (False, True, "env"),  # SITEWATCH_DATA_DIR, as `sitewatch api` reads it
        (True, True, "config"),  # the configuration's data_dir is the more specific
        (False, False, "cwd"),  # neither: ./data
    ],
)
def test_run_keeps_its_data_where_it_is_told(tmp_path: Path, in_config: bool, env: bool, where: str) -> None:
    """Regression (issue 13, finding 14): `sitewatch run` ignored SITEWATCH_DATA_DIR and wrote ./data."""
    folders = {
        "env": tmp_path / "from-env",
        "config": tmp_path / "from-config",
        "cwd": tmp_path / "cwd" / "data",
    }
    (tmp_path / "cwd").mkdir()
    config = tmp_path / "site.yaml"
    config.write_text(
        "site: {id: demo}\nfalse_alarms: {enabled: false}\n"
        + (f"data_dir: {folders['config']}\n" if in_config else "")
        + f"cameras:\n  gate: {{url: {ROOT / 'configs' / 'demo' / 'site-demo.mp4'}}}\n"
    )
    result = sitewatch(
        "run",
        "--config",
        config,
        "--duration",
        "0.5",
        "--port",
        str(free_port()),
        cwd=tmp_path / "cwd",
        env={"SITEWATCH_DATA_DIR": str(folders["env"]) if env else ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shown = "data" if where == "cwd" else folders[where]  # relative to the working folder
    assert f"data        {shown}\n" in result.stdout
    assert [name for name, folder in folders.items() if (folder / "sitewatch.db").exists()] == [where]
