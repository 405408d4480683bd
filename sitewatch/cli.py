"""The ``sitewatch`` command.

Each subcommand is a small function that parses nothing itself: ``build_parser`` declares the options,
the function does the work and returns the exit status (0 ok, 1 some input failed, 2 bad usage or
configuration).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitewatch.tables import format_table
from sitewatch.yamlpos import ConfigError

if TYPE_CHECKING:  # these pull in the detector; commands import them when they run
    from detector.dataset import YoloDataset
    from detector.smoking import SmokingScheduler
    from sitewatch.config import Config
    from sitewatch.health import HealthReporter
    from streams.worker import Worker

logger = logging.getLogger("sitewatch")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _config(path: Path | None) -> Config:
    """The configuration at ``path``, or the defaults for a site named ``default``."""
    from sitewatch.config import Config, load_config

    return load_config(path) if path else Config.model_validate({"site": {"id": "default"}})


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a configuration file without starting anything."""
    from sitewatch.config import load_config

    config = load_config(args.file)
    cameras = ", ".join(config.cameras) or "none"
    print(f"{args.file}: valid (site {config.site.id}, cameras: {cameras})")
    return EXIT_OK


def cmd_detect(args: argparse.Namespace) -> int:
    """Detect people and PPE in images; print a table or JSON lines; optionally save annotated copies."""
    import cv2

    from detector.annotate import SceneAnnotator
    from detector.engine import Engine

    config = _config(args.config)
    engine = Engine(config.engine_settings())
    annotator = SceneAnnotator() if args.save else None
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.images:
        image = cv2.imread(str(path))
        if image is None:
            why = "no such file" if not path.exists() else "not a readable image"
            logger.error("%s: %s", path, why)
            if args.json:
                print(json.dumps({"image": str(path), "error": why}), flush=True)
            failed += 1
            continue
        scene = engine.detect([image], smoking=not args.no_smoking)[0]
        result = {"image": str(path), **scene.to_json()}
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            _print_scene(result)
        if annotator is not None:
            out = args.save / f"{path.stem}.jpg"
            cv2.imwrite(str(out), annotator.annotate(image, scene))
    return EXIT_FAILED if failed else EXIT_OK


def _print_scene(result: dict[str, object]) -> None:
    people = result["people"]
    timings = result["timings_ms"]
    assert isinstance(people, list) and isinstance(timings, dict)
    total = sum(timings.values())
    print(f"\n{result['image']}  ({len(people)} people, {total:.1f} ms)")
    if people:
        rows = [
            [
                i + 1,
                " ".join(f"{v:.0f}" for v in p["box"]),
                p["helmet"],
                p["vest"],
                p["smoking"],
                ", ".join(p["violations"]) or "-",
            ]
            for i, p in enumerate(people)
        ]
        print(format_table(["#", "box", "helmet", "vest", "smoking", "violations"], rows))


def cmd_eval(args: argparse.Namespace) -> int:
    """Score a detector on a YOLO dataset: mAP50, mAP50-95, precision, recall, per-class AP."""
    from detector.backend import BackendOptions, backend_for
    from detector.dataset import YoloDataset
    from detector.evaluate import evaluate, load_dataset
    from detector.modelfiles import resolve

    if args.events:
        return _eval_events(args)
    dataset = YoloDataset.open(args.dataset, args.split) if args.split else load_dataset(args.dataset)
    if args.alarms:
        return _eval_alarms(args, dataset)
    model = backend_for(
        resolve(args.model or _config(args.config).models.ppe), BackendOptions(runtime=args.runtime)
    )
    summary = evaluate(model, dataset, progress=not args.json)
    if args.json:
        print(json.dumps(summary.to_json()))
        return EXIT_OK
    print(f"{model.path.name} on {args.dataset} ({summary.images} images, {summary.instances} boxes)")
    rows = [["all", summary.map50, summary.map50_95]]
    rows += [[name, c.ap50, c.ap50_95] for name, c in summary.per_class.items()]
    print(format_table(["class", "AP50", "AP50-95"], rows, digits=3))
    print(f"precision {summary.precision:.3f}  recall {summary.recall:.3f}")
    return EXIT_OK


def _eval_events(args: argparse.Namespace) -> int:
    """``sitewatch eval MANIFEST --events``: a hand-labelled composed video through the real worker."""
    from sitewatch.eventcheck import Manifest, run_check

    manifest = Manifest.load(args.dataset)
    config = _config(args.config)
    if args.model or args.conf is not None or args.smoking_model:
        models = config.models.model_copy(
            update={
                "ppe": args.model or config.models.ppe,
                "smoking": args.smoking_model or config.models.smoking,
            }
        )
        detect = config.detect.model_copy(update={"conf": args.conf or config.detect.conf})
        config = config.model_copy(update={"models": models, "detect": detect})
    result = run_check(manifest, config, progress=not args.json).to_json()
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    print(f"events from {args.dataset} ({len(manifest.segments)} photos, {manifest.duration:.0f} s of video)")
    rows = [
        [kind, c["right"], c["missing"], c["wrong"], c["duplicate"]] for kind, c in result["kinds"].items()
    ]
    print(format_table(["kind", "right", "missing", "wrong", "duplicate"], rows))
    return EXIT_OK


def _eval_alarms(args: argparse.Namespace, dataset: YoloDataset) -> int:
    """``sitewatch eval --alarms``: per-photo and per-person alarm figures at the operating point."""
    import dataclasses

    from detector.alarms import evaluate_alarms
    from detector.engine import Engine

    settings = _config(args.config).engine_settings()
    if args.model:
        settings = dataclasses.replace(settings, ppe_model=args.model)
    if args.smoking_model:
        settings = dataclasses.replace(settings, smoking_model=args.smoking_model)
    if args.conf is not None:
        settings = dataclasses.replace(settings, ppe=dataclasses.replace(settings.ppe, conf=args.conf))
    report = evaluate_alarms(Engine(settings), dataset, progress=not args.json)
    if args.json:
        print(json.dumps(report.to_json()))
        return EXIT_OK
    print(f"alarms on {args.dataset} ({len(dataset)} photos) at conf {report.conf:g}")
    headers = ["kind", "photos with", "photo P", "photo R", "false alarms", "person R", "person P"]
    headers.append("compliant flagged")
    rows = []
    for kind, counts in report.kinds.items():
        s = counts.summary()
        rows.append(
            [
                kind,
                f"{s['photos_with_violation']}/{s['photos']}",
                *(
                    "-" if s[key] is None else round(s[key], 3)
                    for key in (
                        "photo_precision",
                        "photo_recall",
                        "photo_false_alarm_rate",
                        "person_recall",
                        "person_precision",
                        "compliant_flagged_rate",
                    )
                ),
            ]
        )
    print(format_table(headers, rows, digits=3))
    return EXIT_OK


def cmd_faces_enroll(args: argparse.Namespace) -> int:
    """Enrol every sub-folder of DIR (one per person, several photos each) into a gallery file."""
    import cv2

    from detector.faces import EnrollmentError, FaceAnalyzer, Gallery, enrollment_embedding

    config = _config(args.config)
    analyzer = FaceAnalyzer.load(config.face_settings(), config.models.dir)
    gallery = Gallery.load(args.gallery) if args.gallery.exists() else Gallery(config.face.match_threshold)
    people = sorted(p for p in args.folder.iterdir() if p.is_dir())
    if not people:
        logger.error(
            "%s has no sub-folders: put each person's photos in a folder named after them", args.folder
        )
        return EXIT_USAGE
    rows, rejected = [], 0
    for person in people:
        embeddings = []
        for photo in sorted(p for p in person.iterdir() if p.is_file()):
            try:
                embeddings.append(enrollment_embedding(analyzer, cv2.imread(str(photo)), str(photo)))
            except EnrollmentError as exc:
                logger.warning("rejected: %s", exc)
                rejected += 1
        if embeddings:
            gallery.enroll(person.name, embeddings)
        rows.append([person.name, len(embeddings)])
    gallery.save(args.gallery)
    print(format_table(["person", "photos used"], rows))
    print(f"gallery written to {args.gallery} ({len(gallery.identities)} people, embeddings only)")
    return EXIT_FAILED if rejected else EXIT_OK


def cmd_faces_match(args: argparse.Namespace) -> int:
    """Recognise the faces in images against a gallery file."""
    import cv2

    from detector.faces import FaceAnalyzer, Gallery

    config = _config(args.config)
    analyzer = FaceAnalyzer.load(config.face_settings(), config.models.dir)
    gallery = Gallery.load(args.gallery)
    if args.threshold is not None:
        gallery.threshold = args.threshold
    failed = 0
    rows = []
    for path in args.images:
        image = cv2.imread(str(path))
        if image is None:
            logger.error("%s: not a readable image", path)
            failed += 1
            continue
        faces = analyzer.faces(image, min_size=config.face.min_face_px)
        matches = [gallery.match(f.embedding) for f in faces if f.embedding is not None]
        if args.json:
            print(
                json.dumps(
                    {
                        "image": str(path),
                        "faces": [
                            {
                                "box": [round(float(v), 1) for v in f.box],
                                "name": m.name,
                                "similarity": round(m.similarity, 4),
                            }
                            for f, m in zip(faces, matches, strict=True)
                        ],
                    }
                )
            )
        rows += [[str(path.name), m.name or "unknown", m.similarity] for m in matches] or [
            [path.name, "no face", None]
        ]
    if not args.json:
        print(format_table(["image", "identity", "similarity"], rows))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune a checkpoint on a YOLO dataset and export ONNX into the models folder."""
    from detector.modelfiles import models_dir, resolve
    from detector.train import train

    base = resolve(args.model if args.model.endswith(".pt") else f"{args.model}.pt")
    result = train(
        data=args.data,
        base=base,
        out_dir=args.out or models_dir(),
        name=args.name,
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        device=args.device,
        workers=args.workers,
        extra={"time": args.hours, "cache": "ram"} if args.hours else None,
    )
    print(
        format_table(
            ["file", "sha256"], [[str(result.weights), "recorded"], [str(result.onnx), result.onnx_sha256]]
        )
    )
    return EXIT_OK


def cmd_data(args: argparse.Namespace) -> int:
    """Rebuild a training set from its sources (``detector.trainsets``)."""
    from detector.trainsets import build_ppe, build_smoking, ultralytics_labeler

    src: Path = args.sources
    if args.set == "ppe":
        device = args.device
        people = ultralytics_labeler(args.people_model, classes={0: 0}, conf=0.4, device=device)
        vests = (
            ultralytics_labeler(args.teacher, classes={3: 3, 4: 4}, conf=0.5, device=device)
            if args.teacher
            else None
        )
        report = build_ppe(
            ppe=src / "ppe",
            hhw=None if args.no_hhw else src / "hhw",
            out=args.out,
            person_labeler=None if args.no_hhw else people,
            vest_labeler=vests,
        )
    else:
        if args.cigarettes is None:
            logger.error("sitewatch data smoking needs --cigarettes (the cigarettev6 export's folder)")
            return EXIT_USAGE
        report = build_smoking(
            smoking=src / "smoking",
            cigarettes=args.cigarettes,
            exclude=[src / "smoking-test"],
            out=args.out,
        )
    rows = [[f"images {k}", v] for k, v in report.images.items()]
    rows += [[f"boxes {k}", v] for k, v in report.boxes.items()]
    rows += [[f"left out: {k}", v] for k, v in report.skipped.items()]
    print(format_table(["what", "count"], rows))
    print(f"written to {args.out} (train with: sitewatch train --data {args.out} ...)")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    """Time the detection engine per stage next to the bare onnxruntime session."""
    import cv2
    import onnxruntime as ort

    from detector.bench import bench_engine
    from detector.engine import Engine
    from detector.smoking import SmokingScheduler

    if args.api:
        return _bench_api(args)
    if args.alerts:
        return _bench_alerts(args)
    if args.ui:
        return _bench_ui(args)
    config = _config(args.config)
    if args.cameras:
        return _bench_cameras(args, config)
    paths = _image_paths(args.images)
    images = [img for img in (cv2.imread(str(p)) for p in paths) if img is not None]
    if not images:
        logger.error("no readable images among %s", ", ".join(map(str, args.images)))
        return EXIT_USAGE
    if args.runtimes:
        return _bench_runtimes(args, config, images)
    scheduler = SmokingScheduler(config.smoking.recheck_frames, config.smoking.max_crops_per_frame)
    if args.models:
        return _bench_models(args, config, images, scheduler)
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
            f"{scheduler.recheck_frames} frames, at most {scheduler.max_per_frame} per frame)"
        )
    return EXIT_OK


def _bench_models(
    args: argparse.Namespace, config: Config, images: list[Any], scheduler: SmokingScheduler
) -> int:
    """``sitewatch bench --models A B``: the engine's time per frame with each PPE model, in one run.

    The models take turns in three rounds, so that load on the machine falls on each alike; the table
    gives each model's median over the rounds and its cost relative to the first model.
    """
    import dataclasses
    import statistics

    from detector.bench import bench_engine
    from detector.engine import Engine

    engines = [
        Engine(dataclasses.replace(config.engine_settings(), ppe_model=model)) for model in args.models
    ]
    rounds: list[list[float]] = [[] for _ in engines]
    raw: list[list[float]] = [[] for _ in engines]
    per_round = max(1, args.runs // 3)
    for _ in range(3):
        for i, engine in enumerate(engines):
            result = bench_engine(engine, images, runs=per_round, scheduler=scheduler, progress=False)
            rounds[i].append(result.engine_ms)
            if result.raw_ms is not None:
                raw[i].append(result.raw_ms)
    medians = [statistics.median(r) for r in rounds]
    rows = [
        [
            str(engine.ppe.path.name),
            "x".join(map(str, engine.ppe.input_size)),
            statistics.median(raw[i]) if raw[i] else "-",
            medians[i],
            medians[i] / medians[0],
        ]
        for i, engine in enumerate(engines)
    ]
    if args.json:
        keys = ["model", "input", "raw_ms", "engine_ms", "vs_first"]
        for row in rows:
            print(json.dumps(dict(zip(keys, row, strict=True))))
        return EXIT_OK
    print(f"{len(images)} images, {3 * per_round} runs per model in 3 rounds, smoking stage included")
    print(format_table(["PPE model", "input", "session.run ms", "engine ms/frame", "vs first"], rows))
    return EXIT_OK


def _bench_runtimes(args: argparse.Namespace, config: Config, images: list[Any]) -> int:
    """``sitewatch bench --runtimes``: onnxruntime / OpenVINO, float / INT8 PPE model, interleaved."""
    from detector.modelfiles import resolve
    from detector.runtimes import available_options, bench_runtimes

    base = config.models.dir
    options = available_options(resolve(args.float, base), resolve(args.int8, base))
    results = bench_runtimes(
        options, images, config.engine_settings(), runs=args.runs, progress=not args.json
    )
    if args.json:
        for result in results:
            print(json.dumps(result.to_json()))
        return EXIT_OK
    print(f"{len(images)} images, {args.runs} frames per option, interleaved; engine without smoking")
    rows = [
        [r.option.label, r.option.model.name, r.inference_ms, r.engine_ms, r.vs_first, r.fps] for r in results
    ]
    print(format_table(["runtime", "model", "inference ms", "engine ms/frame", "vs first", "fps"], rows))
    return EXIT_OK


def cmd_quantize(args: argparse.Namespace) -> int:
    """Write a statically quantised INT8 copy of a model, calibrated on images, and record its checksum."""
    from detector import modelfiles
    from detector.quantize import calibration_images, parse_calib, quantize_model

    folders = [parse_calib(spec) for spec in args.calib]
    images = calibration_images([f for f, _ in folders], [n for _, n in folders])
    report = quantize_model(
        modelfiles.resolve(args.model),
        args.out,
        images,
        float_head=args.float_head,
        method=args.method,
        per_channel=not args.per_tensor,
    )
    digest = modelfiles.record(args.out) if args.record else modelfiles.sha256(args.out)
    print(
        f"{args.out}: {report.quantized_convs} of {report.convs} convolutions in INT8, "
        f"{len(report.float_nodes)} head nodes kept float, calibrated on {report.calibration_images} "
        f"images; sha256 {digest}" + (" (recorded)" if args.record else "")
    )
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the edge worker on the configuration's cameras until interrupted (or ``--duration``)."""
    from sitewatch.config import load_config
    from sitewatch.edge import build_worker

    config = load_config(args.config)
    if args.log_level is None:  # no --log-level: the configuration's (INFO by default) shows the events
        from sitewatch.logsetup import setup_logging

        setup_logging(config.log_level)
    if not any(c.enabled for c in config.cameras.values()):
        logger.error("%s has no enabled camera", args.config)
        return EXIT_USAGE
    from sitewatch.edge import officer_sync
    from sitewatch.false_alarms import false_alarm_sync
    from sitewatch.health import HealthReporter
    from streams.sinks import HEALTH_PATH, json_poster

    sync = officer_sync(config)
    if sync is not None:
        sync.start()
    memory_sync = false_alarm_sync(config)
    if memory_sync is not None:
        memory_sync.start()
    worker = build_worker(
        config,
        gallery=sync.gallery if sync else None,
        on_sighting=sync.sighting if sync else None,
        memory=memory_sync.memory if memory_sync else None,
    )
    reporter = None
    if config.sink.type == "http" and config.sink.url:
        send = json_poster(config.sink.url, config.sink.api_key, HEALTH_PATH)
        reporter = HealthReporter(worker, config.site.id, send)
    try:
        return _run_worker(worker, args.duration, reporter)
    finally:
        if sync is not None:
            sync.stop()
        if memory_sync is not None:
            memory_sync.stop()


def cmd_run(args: argparse.Namespace) -> int:
    """Everything on one box: the API with its dispatcher, the worker and (configured) a demo receiver."""
    from sitewatch.allinone import HEADER, AllInOne
    from sitewatch.config import load_config
    from sitewatch.edge import build_worker
    from sitewatch.health import HealthReporter

    config = load_config(args.config)
    product = AllInOne(config, host=args.host, port=args.port)
    memory_sync = None
    product.start_api()
    try:
        print("\n".join(product.banner()), flush=True)
        print("events (Ctrl-C stops):\n" + HEADER, flush=True)
        memory_sync = product.false_alarm_sync()
        if memory_sync is not None:
            memory_sync.start()
        worker = build_worker(
            config,
            sink=product.sink,
            gallery=product.gallery,
            on_sighting=product.record_sighting,
            memory=memory_sync.memory if memory_sync else None,
        )
        reporter = HealthReporter(worker, config.site.id, product.record_health, interval_s=5.0)
        return _run_worker(worker, args.duration, reporter)
    finally:
        if memory_sync is not None:
            memory_sync.stop()
        product.stop()


def cmd_report(args: argparse.Namespace) -> int:
    """Write a brief from the API's database (SQLite in the data folder or SITEWATCH_DATABASE_URL)."""
    from api.auth import Principal
    from api.briefs import PdfUnavailableError, Period, PeriodError, brief_data, render_html, render_pdf
    from api.db import make_engine, migrate, session_factory
    from api.settings import ApiSettings
    from api.storage import open_store

    settings = ApiSettings.from_env(data_dir=args.data_dir)
    try:
        period = Period.parse(args.period or args.month, args.tz)
    except PeriodError as exc:
        logger.error("%s", exc)
        return EXIT_USAGE
    engine = make_engine(settings.database_url)
    migrate(engine)
    with session_factory(engine)() as session:
        data = brief_data(
            session,
            principal=Principal(name="sitewatch report", role="admin"),
            period=period,
            store=open_store(settings),
            site_id=args.site,
            lang=args.lang,
        )
    engine.dispose()
    html = render_html(data)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"sitewatch-{period.label}-{args.site or 'district'}"
    written = []
    if args.format in ("html", "both"):
        stem.with_suffix(".html").write_text(html, encoding="utf-8")
        written.append(stem.with_suffix(".html"))
    if args.format in ("pdf", "both"):
        try:
            stem.with_suffix(".pdf").write_bytes(render_pdf(html))
            written.append(stem.with_suffix(".pdf"))
        except PdfUnavailableError as exc:
            logger.error("%s", exc)
            return EXIT_FAILED
    print(data["title"])
    rows = [[f["label"], f["shown"], f["previous"], f["delta"]] for f in data["figures"]]
    print(format_table(["figure", "this period", "previous", "change"], rows))
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_api(args: argparse.Namespace) -> int:
    """Serve the central API (SQLite in the data folder unless SITEWATCH_DATABASE_URL says otherwise)."""
    from api.app import create_app
    from api.serve import serve
    from api.settings import ApiSettings

    settings = ApiSettings.from_env(data_dir=args.data_dir)
    alerts = None
    if args.config is not None:
        from sitewatch.config import load_central_config

        alerts = load_central_config(args.config).alerts
    app = create_app(settings, alerts=alerts)  # migrates and makes the admin key once, before any worker
    if app.state.new_admin_key:
        print(f"first start: admin key (shown once, store it now): {app.state.new_admin_key}", flush=True)
    print(
        f"sitewatch API on http://{args.host}:{args.port} (docs at /docs), data in {settings.data_dir}"
        + (f", {args.workers} worker processes" if args.workers > 1 else ""),
        flush=True,
    )
    if args.workers > 1:
        app.state.engine.dispose()
        # Worker processes rebuild the app from the environment; the API keeps no state between requests.
        os.environ["SITEWATCH_DATA_DIR"] = str(settings.data_dir)
        os.environ["SITEWATCH_DATABASE_URL"] = settings.database_url
        if alerts is not None:  # secrets included: they came from this environment in the first place
            os.environ["SITEWATCH_ALERTS_JSON"] = alerts.model_dump_json()
    serve(app, host=args.host, port=args.port, workers=args.workers)
    return EXIT_OK


def _run_worker(worker: Worker, duration: float | None, reporter: HealthReporter | None = None) -> int:
    import signal
    import time

    # The handler only flips a flag: setting a threading.Event from a signal handler can deadlock when
    # the signal lands while the main thread holds that Event's lock inside wait().
    stopping: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    worker.start()
    if reporter is not None:
        reporter.start()
    deadline = None if duration is None else time.monotonic() + duration
    while not stopping and (deadline is None or time.monotonic() < deadline):
        time.sleep(0.2)
    worker.stop()
    if reporter is not None:
        reporter.stop()
    rows = [
        [
            cid,
            "online" if h["online"] else "offline",
            h["input_fps"],
            h["frames_processed"],
            h["skipped_motion"],
            h["dropped_overload"],
            h["last_error"] or "-",
        ]
        for cid, h in worker.health().items()
    ]
    print(format_table(["camera", "state", "input fps", "processed", "still", "dropped", "last error"], rows))
    return EXIT_OK


def _bench_ui(args: argparse.Namespace) -> int:
    """``bench --ui``: review queue and brief times at scale, in headless Chromium."""
    from sitewatch.bench_ui import bench_ui

    result = bench_ui(stored=args.stored, cards=args.cases, port=args.port, progress=not args.json)
    if args.json:
        print(json.dumps(result.to_json()))
        return EXIT_OK
    figures = result.to_json()
    print(format_table(["measure", "value"], [[k, v] for k, v in figures.items()]))
    return EXIT_OK


def _bench_alerts(args: argparse.Namespace) -> int:
    """``bench --alerts``: dispatcher throughput and event-to-case-system latency."""
    from sitewatch.bench_alerts import bench_alerts

    results = [
        bench_alerts(
            url,
            deliveries=args.deliveries,
            concurrency=args.concurrency,
            events=args.cases,
            port=args.port,
            progress=not args.json,
        )
        for url in (args.database_url or [None])
    ]
    columns = [
        ("database", "database"),
        ("deliveries", "deliveries"),
        ("in flight", "concurrency"),
        ("deliveries/s", "deliveries_per_s"),
        ("events", "events"),
        ("median ms", "latency_median_ms"),
        ("p95 ms", "latency_p95_ms"),
    ]
    return _print_results(results, columns, as_json=args.json)


def _print_results(results: Sequence[Any], columns: list[tuple[str, str]], *, as_json: bool) -> int:
    """Benchmark results as one JSON object per line, or a table of ``(header, attribute)`` columns."""
    if as_json:
        for result in results:
            print(json.dumps(result.to_json()))
    else:
        print(format_table([h for h, _ in columns], [[getattr(r, a) for _, a in columns] for r in results]))
    return EXIT_OK


def _bench_api(args: argparse.Namespace) -> int:
    """``bench --api``: ingest rate and listing latency, on SQLite or ``--database-url``."""
    from api.bench import bench_api

    results = [
        bench_api(
            url,
            events=args.events,
            stored=args.stored,
            clients=args.clients,
            port=args.port,
            workers=args.api_workers,
            progress=not args.json,
        )
        for url in (args.database_url or [None])
    ]
    columns = [
        ("database", "database"),
        ("API processes", "workers"),
        ("clients", "clients"),
        ("ingest/s", "ingest_per_s"),
        ("ingest p95 ms", "ingest_p95_ms"),
        ("events stored", "stored_events"),
        ("list median ms", "list_median_ms"),
        ("list p95 ms", "list_p95_ms"),
        ("server CPU ms/event", "server_cpu_ms"),
        ("client CPU ms/event", "client_cpu_ms"),
    ]
    return _print_results(results, columns, as_json=args.json)


def _bench_cameras(args: argparse.Namespace, config: Config) -> int:
    """``bench --cameras N...``: the whole worker on N copies of the demo video, per N."""
    from detector.engine import Engine
    from sitewatch.config import CameraConfig
    from sitewatch.edge import build_worker
    from streams.bench import bench_worker, engine_fps, rss_mb
    from streams.sinks import MemorySink

    engine = Engine(config.engine_settings())
    rate = engine_fps(engine, args.video)
    results = []
    for count in args.cameras:
        cameras = {f"cam{i}": CameraConfig(url=str(args.video), loop=True) for i in range(count)}
        always = {"armed": "always"}
        rules = config.rules.model_copy(
            update={
                "no_helmet": config.rules.no_helmet.model_copy(update=always),
                "no_vest": config.rules.no_vest.model_copy(update=always),
                "smoking": config.rules.smoking.model_copy(update=always),
            }
        )
        run_config = config.model_copy(update={"cameras": cameras, "rules": rules})
        base = rss_mb()
        sink = MemorySink()
        worker = build_worker(run_config, sink=sink, engine=engine)
        results.append(
            bench_worker(
                worker,
                sink,
                engine_rate=rate,
                base_rss=base,
                warmup_s=5.0,
                duration_s=args.seconds,
                progress=not args.json,
            )
        )
    if args.json:
        for result in results:
            print(json.dumps(result.to_json()))
        return EXIT_OK
    print(
        f"engine alone: {rate:.1f} frames/s (PPE engine, one frame at a time); {args.seconds:.0f} s per run"
    )
    rows = [
        [
            r.cameras,
            r.demand_fps,
            r.fps_total,
            r.ratio,
            r.ratio_of_capacity,
            r.ratio_of_engine_work,
            r.latency_p95_ms,
            r.latency_samples,
            r.dropped,
            r.rss_mb_per_camera,
        ]
        for r in results
    ]
    print(
        format_table(
            [
                "cameras",
                "demand fps",
                "fps total",
                "/engine",
                "/capacity",
                "/engine work",
                "p95 latency ms",
                "events",
                "dropped",
                "MB/camera",
            ],
            rows,
        )
    )
    stages = sorted({k for r in results for k in r.stages_ms})
    print(
        format_table(
            ["stage ms/frame", *(f"{r.cameras} cam" for r in results)],
            [[k, *(r.stages_ms.get(k, 0.0) for r in results)] for k in stages],
        )
    )
    return EXIT_OK


def _image_paths(items: Sequence[Path]) -> list[Path]:
    from detector.dataset import IMAGE_SUFFIXES

    paths: list[Path] = []
    for item in items:
        if item.is_dir():
            paths += sorted(p for p in item.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(item)
    return paths


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

    p = sub.add_parser("detect", help="detect people, PPE and smoking in images")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--save", type=Path, metavar="DIR", help="write annotated copies here")
    p.add_argument("--config", type=Path, help="configuration file (model and threshold settings)")
    p.add_argument("--no-smoking", action="store_true", help="skip the cigarette check")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("eval", help="mAP of a detector on a YOLO dataset")
    p.add_argument("dataset", type=Path, metavar="DATASET_DIR")
    p.add_argument(
        "--model",
        help="ppe, ppe-int8, smoking or a model path (default: the configuration's PPE model, ppe)",
    )
    p.add_argument("--split", choices=["train", "val", "test"], help="default: test if the set has one")
    p.add_argument(
        "--alarms",
        action="store_true",
        help="alarm-level figures at the operating point: per photo and per person, as the worker decides",
    )
    p.add_argument(
        "--events",
        action="store_true",
        help="DATASET_DIR is a manifest of hand-labelled photos: play them as a video through the worker "
        "and count the events right, missing and wrong",
    )
    p.add_argument(
        "--config", type=Path, help="configuration (operating point, models, rules) for --alarms, --events"
    )
    p.add_argument("--conf", type=float, help="with --alarms: the PPE confidence to score instead")
    p.add_argument("--smoking-model", help="with --alarms: the cigarette model to use instead")
    p.add_argument(
        "--runtime", choices=["onnxruntime", "openvino"], default="onnxruntime", help="what runs the model"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("quantize", help="an INT8 copy of a model (onnxruntime static quantisation)")
    p.add_argument("--model", default="ppe", help="float model: alias or .onnx path (default ppe)")
    p.add_argument(
        "--calib",
        nargs="+",
        required=True,
        metavar="DIR[:N]",
        help="calibration images (dataset split folders), the first N of each when given; never a test split",
    )
    p.add_argument("--out", type=Path, required=True, help="the INT8 .onnx to write")
    p.add_argument(
        "--float-head",
        choices=["decode", "convs", "none"],
        default="decode",
        help="head part kept float: decoding (default), also its last convolutions, or nothing",
    )
    p.add_argument("--method", choices=["minmax", "percentile", "entropy"], default="minmax")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    p.add_argument(
        "--no-record", dest="record", action="store_false", help="do not add it to the folder's SHA256SUMS"
    )
    p.set_defaults(func=cmd_quantize)

    faces = sub.add_parser("faces", help="enrol and recognise faces").add_subparsers(
        dest="action", required=True
    )
    p = faces.add_parser("enroll", help="enrol one person per sub-folder of DIR")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--gallery", type=Path, required=True, help="gallery file (.npz) to create or extend")
    p.add_argument("--config", type=Path)
    p.set_defaults(func=cmd_faces_enroll)
    p = faces.add_parser("match", help="recognise faces in images")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--gallery", type=Path, required=True)
    p.add_argument("--threshold", type=float, help="override the gallery's match threshold")
    p.add_argument("--json", action="store_true")
    p.add_argument("--config", type=Path)
    p.set_defaults(func=cmd_faces_match)

    p = sub.add_parser("train", help="fine-tune a model with ultralytics and export ONNX (train extra)")
    p.add_argument("--data", type=Path, required=True, help="YOLO dataset folder or its data.yaml")
    p.add_argument("--model", default="ppe", help="checkpoint to start from: ppe, smoking or a .pt path")
    p.add_argument("--name", required=True, help="name of the files written (NAME.pt, NAME.onnx)")
    p.add_argument("--out", type=Path, help="output folder (default: the models folder)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--device", help="cpu, 0, 0,1 ... (default: a GPU when there is one)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--hours", type=float, help="train for this long instead of --epochs (ultralytics 'time')")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("data", help="rebuild a training set from its sources (train extra for ppe)")
    p.add_argument("set", choices=["ppe", "smoking"])
    p.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    p.add_argument(
        "--sources", type=Path, default=Path("../shared/datasets"), help="folder holding ppe/, hhw/, smoking/"
    )
    p.add_argument("--teacher", type=Path, help="ppe: a PPE checkpoint that pseudo-labels hhw's vests")
    p.add_argument(
        "--people-model",
        type=Path,
        default=Path("models/init/yolov8n-coco.pt"),
        help="ppe: the COCO checkpoint that pseudo-labels hhw's people",
    )
    p.add_argument("--no-hhw", action="store_true", help="ppe: from ppe/ alone (to train the teacher)")
    p.add_argument("--cigarettes", type=Path, help="smoking: the cigarettev6 export (datasetrokok15)")
    p.add_argument("--device", help="pseudo-labelling device: cpu, 0... (default: a GPU when there is one)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("bench", help="latency per stage of the detection engine vs the bare session")
    p.add_argument("--images", nargs="+", type=Path, default=[Path("configs/demo/images")])
    p.add_argument("--runs", type=int, default=100)
    p.add_argument(
        "--models", nargs="+", metavar="MODEL", help="compare the engine's time with each of these PPE models"
    )
    p.add_argument(
        "--runtimes",
        action="store_true",
        help="the engine on onnxruntime and OpenVINO, float and INT8 PPE model, interleaved",
    )
    p.add_argument("--float", default="ppe", help="with --runtimes: the float model (default ppe)")
    p.add_argument("--int8", default="ppe-int8", help="with --runtimes: the INT8 model (default ppe-int8)")
    p.add_argument("--config", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--cameras", nargs="+", type=int, metavar="N", help="run the whole worker on N file sources"
    )
    p.add_argument(
        "--video", type=Path, default=Path("configs/demo/site-demo.mp4"), help="source of --cameras"
    )
    p.add_argument("--seconds", type=float, default=30.0, help="measured time per --cameras run")
    p.add_argument("--api", action="store_true", help="measure the central API: ingest and listing")
    p.add_argument(
        "--alerts", action="store_true", help="measure notifications: dispatcher rate, event-to-case latency"
    )
    p.add_argument("--ui", action="store_true", help="measure the web UI and briefs at --stored events")
    p.add_argument("--deliveries", type=int, default=2000, help="with --alerts: notifications delivered")
    p.add_argument("--concurrency", type=int, default=8, help="with --alerts: requests in flight")
    p.add_argument("--cases", type=int, default=30, help="with --alerts: events timed to the case system")
    p.add_argument(
        "--database-url", action="append", help="with --api/--alerts: a database to measure (repeatable)"
    )
    p.add_argument("--events", type=int, default=1000, help="with --api: updates ingested over HTTP")
    p.add_argument("--stored", type=int, default=100_000, help="with --api: events stored when listing")
    p.add_argument(
        "--clients", type=int, default=64, help="with --api: concurrent ingest clients (edge boxes posting)"
    )
    p.add_argument("--port", type=int, default=18765, help="with --api: loopback port of the API")
    p.add_argument(
        "--api-workers", type=_positive_int, default=2, help="with --api: API server processes (default 2)"
    )
    p.set_defaults(func=cmd_bench)

    for name, func, text in (
        ("worker", cmd_worker, "run the edge worker: cameras in, events to the configured sink"),
        ("run", cmd_run, "run everything on one box (the demo: make run)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", type=Path, required=True)
        p.add_argument("--duration", type=float, help="stop after this many seconds")
        if name == "run":
            p.add_argument("--host", default="127.0.0.1", help="address of the API and web UI")
            p.add_argument("--port", type=int, default=8000, help="port of the API and web UI")
        p.set_defaults(func=func)

    p = sub.add_parser("api", help="serve the central API")
    p.add_argument(
        "--config", type=Path, help="its alerts: channels and routes (not needed: the API starts without one)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--data-dir", type=Path, help="database and evidence folder (default: $SITEWATCH_DATA_DIR or data)"
    )
    p.add_argument("--workers", type=_positive_int, default=1, help="server processes (one per core)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("report", help="a weekly or monthly brief, as HTML and PDF")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--period", help="an ISO week, e.g. 2026-W48 (or a month, 2026-11)")
    when.add_argument("--month", help="a month, e.g. 2026-11")
    p.add_argument("--site", help="one site (default: the whole district)")
    p.add_argument("--format", choices=["html", "pdf", "both"], default="both")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--tz", default="Asia/Shanghai", help="time zone of days and weeks")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the files")
    p.add_argument(
        "--data-dir", type=Path, help="the API's data folder (default: $SITEWATCH_DATA_DIR or data)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("check-config", help="validate a configuration file")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sitewatch`` command."""
    from detector.faces import EnrollmentError
    from detector.modelfiles import ModelFileError
    from sitewatch.logsetup import setup_logging

    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
